// RevocationService: revoking user certificates this CA issued, and the
// revocation list version nodes use to tell a new KRL from an old one.
//
// The rules live here, on CertificateStore's primitives, each call in one
// Store::InTransaction: only an issued serial can be revoked; revoking a
// revoked serial again changes nothing; every call that revokes anything
// increments the version once, in the same transaction, so a KRL built
// from one version never misses a revocation made under it. Thread-safe.
#ifndef GATE_CA_ISSUER_REVOCATION_H_
#define GATE_CA_ISSUER_REVOCATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ca-server/store/store.h"
#include "gate/status.h"

namespace gate::ca {

class RevocationService {
 public:
  explicit RevocationService(Store& store) : store_(store) {}

  // Revokes the certificate with this serial at now and returns the
  // revocation; if it is revoked already, returns the first revocation and
  // changes nothing. NotFound ("no certificate with serial N was issued by
  // this CA") for a serial never issued.
  Result<Revocation> RevokeCertificate(std::uint64_t serial, std::int64_t now);

  // Revokes every certificate issued to user with valid_before > now that
  // is not revoked yet, and returns those (by serial; empty if none, and
  // then nothing changes). The user need not exist any more: a deleted
  // user's certificates stay revocable.
  Result<std::vector<Revocation>> RevokeUserCertificates(const std::string& user, std::int64_t now);

 private:
  Store& store_;
};

}  // namespace gate::ca

#endif  // GATE_CA_ISSUER_REVOCATION_H_
