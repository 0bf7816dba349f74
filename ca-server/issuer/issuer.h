// Issuer: turns an authenticated user and a public key into a signed OpenSSH
// user certificate, in the front end. It decides the lifetime (the request or
// the default, capped by max_ttl and the user's roles) from the policy
// decision (DeriveGrant), then asks the CertificateAuthority (the signer
// process), which re-derives the same decision from its own view of the
// store, picks and records the serial, and signs.
#ifndef GATE_CA_ISSUER_ISSUER_H_
#define GATE_CA_ISSUER_ISSUER_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "ca-server/issuer/certificate_authority.h"
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

class Issuer {
 public:
  Issuer(IssuerOptions options, CertificateAuthority& ca, Store& store)
      : options_(options), ca_(ca), store_(store) {}

  // requested_ttl of zero means the default. The TTL is capped by max_ttl and
  // by the smallest max_ttl of the user's roles. Principals are the grant's
  // logins (the user's own, then each role's), extensions the permit-*
  // flags every role allows. Fails with InvalidArgument for a negative TTL,
  // PermissionDenied ("user alice is locked: <message>") while a lock is in
  // force, FailedPrecondition if the grant has no logins, the signer's
  // refusal, Unavailable if the signer cannot be reached, or whatever the
  // store reports. source (the peer address) goes to the signer's audit
  // event. Nothing is recorded on failure. logins, when not empty, narrows
  // the principals to those (each must be one the grant gives, else the
  // signer refuses with PermissionDenied): the browser terminal's
  // certificate names the one login it connects as.
  Result<IssuedUserCertificate> IssueUserCertificate(
      const UserRecord& user, const ssh::Ed25519PublicKey& key, std::chrono::seconds requested_ttl,
      std::int64_t now, const std::string& source = "",
      const std::vector<std::string>& logins = {}) const;

  // The lifetime a request would get before role caps: requested (or
  // default), capped by max_ttl.
  std::chrono::seconds EffectiveTtl(std::chrono::seconds requested_ttl) const;

  // The policy decision for user at now, from the roles and lock in the
  // store: what IssueUserCertificate would grant, or why not.
  Result<policy::Grant> GrantFor(const UserRecord& user, std::int64_t now) const;

 private:
  IssuerOptions options_;
  CertificateAuthority& ca_;
  Store& store_;
};

}  // namespace gate::ca

#endif  // GATE_CA_ISSUER_ISSUER_H_
