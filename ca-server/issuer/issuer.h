// Issuer: turns an authenticated user and a public key into a signed OpenSSH
// user certificate. Principals, lifetime cap and extensions come from the
// policy decision (policy::ComputeGrant over the user's roles and locks, read
// from the store); it makes the serial unique (recorded in the store before
// the certificate is returned), and signs through the user CA's Signer.
#ifndef GATE_CA_ISSUER_ISSUER_H_
#define GATE_CA_ISSUER_ISSUER_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "ca-server/store/store.h"
#include "gate/certificate.h"
#include "gate/policy.h"
#include "gate/status.h"

namespace gate::ca {

struct IssuerOptions {
  std::chrono::seconds default_ttl{12 * 3600};
  std::chrono::seconds max_ttl{30 * 3600};
  // Certificates are valid from a minute before issuance, so a node whose
  // clock is slightly behind still accepts a fresh certificate.
  std::chrono::seconds backdate{60};
};

struct IssuedUserCertificate {
  ssh::Certificate certificate;
  std::vector<std::string> extensions;  // names, sorted
  std::vector<std::string> roles;       // the user's roles that exist (the grant's)
};

class Issuer {
 public:
  Issuer(IssuerOptions options, const ssh::Signer& user_ca, Store& store)
      : options_(options), user_ca_(user_ca), store_(store) {}

  // requested_ttl of zero means the default. The TTL is capped by max_ttl and
  // by the smallest max_ttl of the user's roles. Principals are the grant's
  // logins (the user's own, then each role's), extensions the permit-*
  // flags every role allows. Fails with InvalidArgument for a negative TTL,
  // PermissionDenied ("user alice is locked: <message>") while a lock is in
  // force, FailedPrecondition if the grant has no logins, or whatever
  // signing or the store reports. Nothing is recorded on failure.
  Result<IssuedUserCertificate> IssueUserCertificate(const UserRecord& user,
                                                     const ssh::Ed25519PublicKey& key,
                                                     std::chrono::seconds requested_ttl,
                                                     std::int64_t now) const;

  // The lifetime a request would get before role caps: requested (or
  // default), capped by max_ttl.
  std::chrono::seconds EffectiveTtl(std::chrono::seconds requested_ttl) const;

  // The policy decision for user at now, from the roles and lock in the
  // store: what IssueUserCertificate would grant, or why not.
  Result<policy::Grant> GrantFor(const UserRecord& user, std::int64_t now) const;

 private:
  IssuerOptions options_;
  const ssh::Signer& user_ca_;
  Store& store_;
};

}  // namespace gate::ca

#endif  // GATE_CA_ISSUER_ISSUER_H_
