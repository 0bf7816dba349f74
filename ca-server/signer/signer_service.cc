#include "ca-server/signer/signer_service.h"

#include <algorithm>
#include <string>
#include <utility>

#include "ca-server/auth/node_auth.h"
#include "ca-server/issuer/grant.h"
#include "ca-server/issuer/host_issuer.h"
#include "gate/bytes.h"
#include "gate/names.h"

namespace gate::ca {
namespace {

// A 64-bit serial collides with one already issued with negligible odds; the
// store still refuses a reuse, so a few retries make "never reused" certain.
constexpr int kSerialAttempts = 4;

Result<std::uint64_t> NonZeroSerial() {
  for (;;) {
    auto serial = RandomU64();
    if (!serial) return Err(serial.error());
    if (*serial != 0) return *serial;  // 0 reads as "no serial" in OpenSSH tools
  }
}

}  // namespace

SignerService::SignerService(SignerOptions options, CaKeys keys, Store& store,
                             std::function<std::int64_t()> now)
    : options_(options),
      keys_(std::move(keys)),
      store_(store),
      audit_(store),
      now_(std::move(now)) {}

Result<IssuedUserCertificate> SignerService::SignUserCertificate(
    const UserCertificateRequest& req) {
  const std::int64_t now = now_();
  auto issued = DecideAndSignUser(req, now);
  std::string detail =
      issued ? "certificate serial " + std::to_string(issued->certificate.spec.serial) +
                   " valid until " + std::to_string(issued->certificate.spec.valid_before)
             : issued.error().message();
  // The user name is echoed only once it is known to be well formed.
  const std::string user = ValidateUserName(req.user).ok() ? req.user : "";
  audit_.Record({now, "signer.user_cert", user, req.source, issued.has_value(), std::move(detail)});
  return issued;
}

Result<IssuedUserCertificate> SignerService::DecideAndSignUser(const UserCertificateRequest& req,
                                                               std::int64_t now) {
  GATE_RETURN_IF_ERROR(ValidateUserName(req.user));
  auto user = store_.GetUser(req.user);
  if (!user) {
    if (user.error().code() == Code::kNotFound) {
      return Err(NotFound("no user " + req.user));
    }
    return Err(user.error());
  }
  if (!user->signed_up()) {
    return Err(FailedPrecondition("user " + req.user + " has not signed up"));
  }
  auto grant = DeriveGrant(store_, *user, now);
  if (!grant) return Err(grant.error());
  if (grant->logins.empty()) {  // ComputeGrant refuses this; a second look costs nothing
    return Err(FailedPrecondition("user " + req.user + " has no logins"));
  }

  std::vector<std::string> logins = grant->logins;
  if (!req.logins.empty()) {
    for (const std::string& login : req.logins) {
      if (std::find(grant->logins.begin(), grant->logins.end(), login) == grant->logins.end()) {
        return Err(PermissionDenied("login '" +
                                    std::string(ValidateLogin(login).ok() ? login : "?") +
                                    "' is not granted to user " + req.user));
      }
    }
    logins = req.logins;
  }

  auto cap = options_.max_user_ttl;
  if (grant->max_ttl.count() > 0) cap = std::min(cap, grant->max_ttl);
  if (req.ttl.count() <= 0) return Err(InvalidArgument("certificate lifetime must be positive"));
  if (req.ttl > cap) {
    return Err(PermissionDenied("a lifetime of " + std::to_string(req.ttl.count()) +
                                "s is over user " + req.user + "'s cap of " +
                                std::to_string(cap.count()) + "s"));
  }

  ssh::CertificateSpec spec;
  spec.type = ssh::CertType::kUser;
  spec.public_key = req.public_key;
  spec.key_id = req.user;
  spec.principals = std::move(logins);
  spec.valid_after = static_cast<std::uint64_t>(now - options_.backdate.count());
  spec.valid_before = static_cast<std::uint64_t>(now + req.ttl.count());
  for (const auto& ext : grant->extensions) spec.extensions.emplace(ext, "");

  for (int attempt = 0; attempt < kSerialAttempts; ++attempt) {
    auto serial = NonZeroSerial();
    if (!serial) return Err(serial.error());
    spec.serial = *serial;
    IssuedCertificate record;
    record.serial = spec.serial;
    record.user = req.user;
    record.key_id = spec.key_id;
    record.valid_after = static_cast<std::int64_t>(spec.valid_after);
    record.valid_before = static_cast<std::int64_t>(spec.valid_before);
    record.issued_at = now;
    Status recorded = store_.RecordCertificate(record);
    if (recorded.code() == Code::kAlreadyExists) continue;
    GATE_RETURN_IF_ERROR(recorded);

    auto cert = ssh::SignCertificate(spec, *keys_.user);
    if (!cert) return Err(cert.error());
    return IssuedUserCertificate{std::move(*cert), grant->extensions, grant->roles};
  }
  return Err(Internal("could not allocate a unique certificate serial"));
}

Result<ssh::Certificate> SignerService::SignHostCertificate(const HostCertificateRequest& req) {
  const std::int64_t now = now_();
  auto cert = DecideAndSignHost(req, now);
  const bool id_ok = LooksLikeHostUuid(req.host_uuid);
  std::string detail = "node " + std::string(id_ok ? req.host_uuid : "?") + ": ";
  detail += cert ? "host certificate serial " + std::to_string(cert->spec.serial)
                 : cert.error().message();
  audit_.Record({now, "signer.host_cert", "", req.source, cert.has_value(), std::move(detail)});
  return cert;
}

Result<ssh::Certificate> SignerService::DecideAndSignHost(const HostCertificateRequest& req,
                                                          std::int64_t now) {
  if (!LooksLikeHostUuid(req.host_uuid)) return Err(InvalidArgument("malformed host UUID"));
  GATE_RETURN_IF_ERROR(ValidateHostPrincipals(req.principals));
  auto node = store_.GetNode(req.host_uuid);
  if (!node) {
    if (node.error().code() == Code::kNotFound) {
      return Err(NotFound("no node " + req.host_uuid + " is registered"));
    }
    return Err(node.error());
  }
  auto registered = ssh::Ed25519PublicKey::FromAuthorizedKey(node->host_key);
  if (!registered) return Err(DataLoss("node " + req.host_uuid + ": stored host key is corrupt"));
  if (!(req.public_key == *registered)) {
    return Err(
        PermissionDenied("this host key is not the one registered for node " + req.host_uuid));
  }
  // The names are gate-ca's decision, kept in the store; whoever asks, the
  // signer vouches for no other.
  if (auto unapproved = UnapprovedHostNames(req.principals, node->principals);
      !unapproved.empty()) {
    return Err(PermissionDenied("host name '" + unapproved.front() + "' is not one of node " +
                                req.host_uuid + "'s"));
  }
  ssh::CertificateSpec spec;
  spec.type = ssh::CertType::kHost;
  spec.public_key = req.public_key;
  spec.key_id = req.host_uuid;
  spec.principals = req.principals;
  spec.valid_after = static_cast<std::uint64_t>(now - options_.backdate.count());
  spec.valid_before = static_cast<std::uint64_t>(now + options_.host_ttl.count());
  // Host certificate serials are not recorded: nothing revokes host
  // certificates by serial (a node that leaves loses its credential, and a
  // compromised host key is revoked by key).
  auto serial = NonZeroSerial();
  if (!serial) return Err(serial.error());
  spec.serial = *serial;
  return ssh::SignCertificate(spec, *keys_.host);
}

}  // namespace gate::ca
