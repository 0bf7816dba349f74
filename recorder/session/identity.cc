#include "recorder/session/identity.h"

#include <algorithm>
#include <optional>

#include "gate/certificate.h"
#include "gate/policy.h"

namespace gate::recorder {
namespace {

constexpr std::string_view kCertSuffix = "-cert-v01@openssh.com";

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Status Denied(std::string why) { return PermissionDenied(std::move(why)); }

}  // namespace

Result<Identity> ResolveIdentity(std::string_view auth_info, const std::string& login,
                                 const hooks::CacheLocation& cache, std::int64_t now) {
  if (auth_info.size() > kMaxAuthInfoSize) return Err(Denied("SSH_USER_AUTH file is too large"));
  if (login.empty()) return Err(Denied("no OS login"));
  std::optional<ssh::Certificate> cert;
  std::size_t line_no = 0;
  while (!auth_info.empty()) {
    ++line_no;
    const std::size_t nl = auth_info.find('\n');
    const std::string_view line = auth_info.substr(0, nl);
    auth_info.remove_prefix(nl == std::string_view::npos ? auth_info.size() : nl + 1);
    const std::size_t sp = line.find(' ');
    if (sp == std::string_view::npos || line.substr(0, sp) != "publickey") continue;
    const std::string_view key = line.substr(sp + 1);
    if (!EndsWith(key.substr(0, key.find(' ')), kCertSuffix)) continue;
    if (cert) return Err(Denied("SSH_USER_AUTH holds more than one certificate"));
    // A full parse, signature included: unlike gate-principals, nothing
    // guarantees sshd verified what this file says.
    auto parsed = ssh::ParseCertificateLine(key);
    if (!parsed) {
      return Err(Denied("SSH_USER_AUTH line " + std::to_string(line_no) +
                        ": bad certificate: " + parsed.error().message()));
    }
    cert = std::move(*parsed);
  }
  if (!cert) return Err(Denied("the session was not authenticated with a Gate certificate"));
  if (cert->spec.type != ssh::CertType::kUser) return Err(Denied("not a user certificate"));
  if (now < 0) return Err(Denied("clock before the epoch"));
  if (Status s = ssh::CheckValidity(*cert, static_cast<std::uint64_t>(now)); !s.ok()) {
    return Err(Denied(s.message()));
  }
  const auto& principals = cert->spec.principals;
  if (std::find(principals.begin(), principals.end(), login) == principals.end()) {
    return Err(Denied("login " + login + " is not one of the certificate's principals"));
  }
  if (Status s = hooks::CheckCacheDir(cache); !s.ok()) return Err(Denied("cache: " + s.message()));
  auto cas = hooks::ReadUserCaKeys(cache);
  if (!cas) return Err(Denied("cache: " + cas.error().message()));
  if (std::find(cas->begin(), cas->end(), cert->signature_key) == cas->end()) {
    return Err(Denied("certificate signed by a CA not in " + cache.UserCaPath()));
  }
  auto snapshot = hooks::ReadSnapshot(cache);
  if (!snapshot) return Err(Denied("cache: " + snapshot.error().message()));
  policy::LoginRequest request;
  request.user = cert->spec.key_id;
  request.login = login;
  request.serial = cert->spec.serial;
  request.now = now;
  const policy::Decision decision = policy::DecideLogin(*snapshot, request);
  if (!decision.allow) return Err(Denied("policy: " + decision.reason));

  Identity id;
  id.user = cert->spec.key_id;
  id.login = login;
  id.serial = cert->spec.serial;
  id.cluster = snapshot->cluster_name;
  return id;
}

}  // namespace gate::recorder
