// Issuer: turns an authenticated user and a public key into a signed OpenSSH
// user certificate. It decides principals, lifetime and extensions, makes the
// serial unique (recorded in the store before the certificate is returned),
// and signs through the user CA's Signer.
#ifndef GATE_CA_ISSUER_ISSUER_H_
#define GATE_CA_ISSUER_ISSUER_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "ca-server/store/store.h"
#include "gate/certificate.h"
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
};

class Issuer {
 public:
  Issuer(IssuerOptions options, const ssh::Signer& user_ca, Store& store)
      : options_(options), user_ca_(user_ca), store_(store) {}

  // requested_ttl of zero means the default. The TTL is capped by max_ttl.
  // Fails with FailedPrecondition if the user has no logins, InvalidArgument
  // for a non-positive TTL, or whatever signing or the store reports.
  Result<IssuedUserCertificate> IssueUserCertificate(const UserRecord& user,
                                                     const ssh::Ed25519PublicKey& key,
                                                     std::chrono::seconds requested_ttl,
                                                     std::int64_t now) const;

  // The lifetime a request would get: requested (or default), capped.
  std::chrono::seconds EffectiveTtl(std::chrono::seconds requested_ttl) const;

 private:
  IssuerOptions options_;
  const ssh::Signer& user_ca_;
  Store& store_;
};

}  // namespace gate::ca

#endif  // GATE_CA_ISSUER_ISSUER_H_
