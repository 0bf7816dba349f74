#include "pam_module/auth_info.h"

#include <security/pam_appl.h>

#include "gate/auth_info.h"
#include "gate/certificate.h"

namespace gate::pam {
namespace {

// sshd writes a few lines at most; anything near this is not from sshd.
constexpr std::size_t kMaxAuthInfo = 64 * 1024;

}  // namespace

Result<std::optional<std::string>> CertificateKeyId(std::string_view auth_info) {
  if (auth_info.size() > kMaxAuthInfo) {
    return Err(InvalidArgument("SSH_AUTH_INFO_0 is too large"));
  }
  std::optional<std::string> key_id;
  for (const ssh::AuthInfoCertificate& line : ssh::AuthInfoCertificates(auth_info)) {
    const std::string_view type = line.key.substr(0, line.key.find(' '));
    // sshd verified this certificate (signature and CA) before it exposed it;
    // checking the signature again would load libcrypto into every PAM stack.
    auto cert = ssh::ParseCertificateLineVerifiedBySshd(line.key);
    if (!cert) {
      return Err(InvalidArgument("SSH_AUTH_INFO_0 line " + std::to_string(line.line) +
                                 ": unusable certificate (" + std::string(type) +
                                 "): " + cert.error().message()));
    }
    if (cert->spec.type != ssh::CertType::kUser) {
      return Err(InvalidArgument("SSH_AUTH_INFO_0 line " + std::to_string(line.line) +
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
