#include "ca-server/issuer/issuer.h"

#include <algorithm>

#include "ca-server/auth/locks.h"
#include "gate/bytes.h"
#include "gate/policy.h"

namespace gate::ca {
namespace {

// A 64-bit serial collides with one already issued with negligible odds; the
// store still refuses a reuse, so a few retries make "never reused" certain.
constexpr int kSerialAttempts = 4;

}  // namespace

Result<policy::Grant> Issuer::GrantFor(const UserRecord& user, std::int64_t now) const {
  // Only the user's own roles and lock: a role or lock of someone else
  // cannot change this user's grant.
  std::vector<policy::Role> roles;
  for (const std::string& name : user.roles) {
    auto role = store_.GetRole(name);
    if (role) {
      roles.push_back(*std::move(role));
    } else if (role.error().code() != Code::kNotFound) {
      return Err(role.error());
    }  // else: a role that no longer exists grants nothing
  }
  auto locks = LocksOf(store_, user.name);
  if (!locks) return Err(locks.error());
  return policy::ComputeGrant({user.name, user.logins, user.roles}, roles, *locks, now);
}

std::chrono::seconds Issuer::EffectiveTtl(std::chrono::seconds requested_ttl) const {
  const auto ttl = requested_ttl.count() == 0 ? options_.default_ttl : requested_ttl;
  return std::min(ttl, options_.max_ttl);
}

Result<IssuedUserCertificate> Issuer::IssueUserCertificate(const UserRecord& user,
                                                           const ssh::Ed25519PublicKey& key,
                                                           std::chrono::seconds requested_ttl,
                                                           std::int64_t now) const {
  if (requested_ttl.count() < 0) return Err(InvalidArgument("certificate TTL must be positive"));
  auto grant = GrantFor(user, now);
  if (!grant) return Err(grant.error());
  if (grant->logins.empty()) {  // ComputeGrant refuses this; a second look costs nothing
    return Err(
        FailedPrecondition("user " + user.name + " has no logins; ask an admin to add some"));
  }
  auto ttl = EffectiveTtl(requested_ttl);
  if (grant->max_ttl.count() > 0) ttl = std::min(ttl, grant->max_ttl);

  ssh::CertificateSpec spec;
  spec.type = ssh::CertType::kUser;
  spec.public_key = key;
  spec.key_id = user.name;
  spec.principals = grant->logins;
  spec.valid_after = static_cast<std::uint64_t>(now - options_.backdate.count());
  spec.valid_before = static_cast<std::uint64_t>(now + ttl.count());
  for (const auto& ext : grant->extensions) spec.extensions.emplace(ext, "");

  for (int attempt = 0; attempt < kSerialAttempts; ++attempt) {
    auto serial = RandomU64();
    if (!serial) return Err(serial.error());
    if (*serial == 0) continue;  // 0 reads as "no serial" in OpenSSH tools
    spec.serial = *serial;

    IssuedCertificate record;
    record.serial = spec.serial;
    record.user = user.name;
    record.key_id = spec.key_id;
    record.valid_after = static_cast<std::int64_t>(spec.valid_after);
    record.valid_before = static_cast<std::int64_t>(spec.valid_before);
    record.issued_at = now;
    Status recorded = store_.RecordCertificate(record);
    if (recorded.code() == Code::kAlreadyExists) continue;
    GATE_RETURN_IF_ERROR(recorded);

    auto cert = ssh::SignCertificate(spec, user_ca_);
    if (!cert) return Err(cert.error());
    return IssuedUserCertificate{std::move(*cert), grant->extensions, grant->roles};
  }
  return Err(Internal("could not allocate a unique certificate serial"));
}

}  // namespace gate::ca
