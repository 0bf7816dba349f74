#include "recorder/session/identity.h"

#include <algorithm>
#include <optional>

#include "gate/auth_info.h"
#include "gate/certificate.h"
#include "gate/policy.h"

namespace gate::recorder {
namespace {

Status Denied(std::string why) { return PermissionDenied(std::move(why)); }

}  // namespace

Result<Identity> ResolveIdentity(std::string_view auth_info, const std::string& login,
                                 const node::CacheLocation& cache, std::int64_t now) {
  if (auth_info.size() > kMaxAuthInfoSize) return Err(Denied("SSH_USER_AUTH file is too large"));
  if (login.empty()) return Err(Denied("no OS login"));
  std::optional<ssh::Certificate> cert;
  for (const ssh::AuthInfoCertificate& line : ssh::AuthInfoCertificates(auth_info)) {
    if (cert) return Err(Denied("SSH_USER_AUTH holds more than one certificate"));
    // A full parse, signature included: unlike gate-principals, nothing
    // guarantees sshd verified what this file says.
    auto parsed = ssh::ParseCertificateLine(line.key);
    if (!parsed) {
      return Err(Denied("SSH_USER_AUTH line " + std::to_string(line.line) +
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
  if (Status s = node::CheckCacheDir(cache); !s.ok()) return Err(Denied("cache: " + s.message()));
  auto cas = node::ReadUserCaKeys(cache);
  if (!cas) return Err(Denied("cache: " + cas.error().message()));
  if (std::find(cas->begin(), cas->end(), cert->signature_key) == cas->end()) {
    return Err(Denied("certificate signed by a CA not in " + cache.UserCaPath()));
  }
  auto snapshot = node::ReadSnapshot(cache);
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
  id.permit_port_forwarding =
      cert->spec.extensions.contains(std::string(ssh::kPermitPortForwarding));
  return id;
}

}  // namespace gate::recorder
