#include "ca-server/issuer/issuer.h"

#include <algorithm>

#include "ca-server/issuer/grant.h"

namespace gate::ca {

Result<policy::Grant> Issuer::GrantFor(const UserRecord& user, std::int64_t now) const {
  return DeriveGrant(store_, user, now);
}

std::chrono::seconds Issuer::EffectiveTtl(std::chrono::seconds requested_ttl) const {
  const auto ttl = requested_ttl.count() == 0 ? options_.default_ttl : requested_ttl;
  return std::min(ttl, options_.max_ttl);
}

Result<IssuedUserCertificate> Issuer::IssueUserCertificate(
    const UserRecord& user, const ssh::Ed25519PublicKey& key, std::chrono::seconds requested_ttl,
    std::int64_t now, const std::string& source, const std::vector<std::string>& logins) const {
  if (requested_ttl.count() < 0) return Err(InvalidArgument("certificate TTL must be positive"));
  // Decided here too, so a locked user or one without logins hears why
  // before anything reaches the signer, and the lifetime is capped rather
  // than refused there.
  auto grant = GrantFor(user, now);
  if (!grant) return Err(grant.error());
  if (grant->logins.empty()) {
    return Err(
        FailedPrecondition("user " + user.name + " has no logins; ask an admin to add some"));
  }
  auto ttl = EffectiveTtl(requested_ttl);
  if (grant->max_ttl.count() > 0) ttl = std::min(ttl, grant->max_ttl);
  return ca_.SignUserCertificate(
      {user.name, ttl, key, logins.empty() ? grant->logins : logins, source});
}

}  // namespace gate::ca
