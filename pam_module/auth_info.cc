#include "pam_module/auth_info.h"

#include <security/pam_appl.h>

#include "gate/certificate.h"

namespace gate::pam {
namespace {

// sshd writes a few lines at most; anything near this is not from sshd.
constexpr std::size_t kMaxAuthInfo = 64 * 1024;
constexpr std::string_view kCertSuffix = "-cert-v01@openssh.com";

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

Result<std::optional<std::string>> CertificateKeyId(std::string_view auth_info) {
  if (auth_info.size() > kMaxAuthInfo) {
    return Err(InvalidArgument("SSH_AUTH_INFO_0 is too large"));
  }
  std::optional<std::string> key_id;
  std::size_t line_no = 0;
  while (!auth_info.empty()) {
    ++line_no;
    const std::size_t nl = auth_info.find('\n');
    const std::string_view line = auth_info.substr(0, nl);
    auth_info.remove_prefix(nl == std::string_view::npos ? auth_info.size() : nl + 1);

    // "publickey TYPE BASE64"; sshd writes no comment, but tolerate one.
    const std::size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || line.substr(0, sp1) != "publickey") continue;
    const std::string_view key = line.substr(sp1 + 1);
    const std::string_view type = key.substr(0, key.find(' '));
    if (!EndsWith(type, kCertSuffix)) continue;

    // sshd verified this certificate (signature and CA) before it exposed it;
    // checking the signature again would load libcrypto into every PAM stack.
    auto cert = ssh::ParseCertificateLineVerifiedBySshd(key);
    if (!cert) {
      return Err(InvalidArgument("SSH_AUTH_INFO_0 line " + std::to_string(line_no) +
                                 ": unusable certificate (" + std::string(type) +
                                 "): " + cert.error().message()));
    }
    if (cert->spec.type != ssh::CertType::kUser) {
      return Err(InvalidArgument("SSH_AUTH_INFO_0 line " + std::to_string(line_no) +
                                 ": not a user certificate"));
    }
    if (key_id.has_value() && *key_id != cert->spec.key_id) {
      return Err(InvalidArgument("SSH_AUTH_INFO_0 holds certificates of two identities"));
    }
    key_id = cert->spec.key_id;
  }
  return key_id;
}

Result<std::string> GateUserFor(pam_handle_t* pamh, const std::string& pam_user) {
  const char* info = pam_getenv(pamh, "SSH_AUTH_INFO_0");
  if (info == nullptr || *info == '\0') return pam_user;
  auto key_id = CertificateKeyId(info);
  if (!key_id) return Err(key_id.error());
  if (!key_id->has_value()) return pam_user;
  return **key_id;
}

}  // namespace gate::pam
