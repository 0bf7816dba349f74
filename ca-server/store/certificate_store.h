// CertificateStore: issued user certificates and their revocations (what
// the KRL is built from). One of the aggregates Store (store.h) composes.
#ifndef GATE_CA_STORE_CERTIFICATE_STORE_H_
#define GATE_CA_STORE_CERTIFICATE_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "gate/status.h"

namespace gate::ca {

struct IssuedCertificate {
  std::uint64_t serial = 0;
  std::string user;
  std::string key_id;
  std::int64_t valid_after = 0;
  std::int64_t valid_before = 0;
  std::int64_t issued_at = 0;
};

// A revoked user certificate. valid_before is the certificate's own, so a
// revocation can leave the KRL once the certificate has expired anyway.
struct Revocation {
  std::uint64_t serial = 0;
  std::string user;
  std::int64_t revoked_at = 0;
  std::int64_t valid_before = 0;
};

// What the KRL is built from.
struct RevocationList {
  std::uint64_t version = 0;            // increases with every revocation; never reused
  std::vector<Revocation> revocations;  // of certificates not yet expired, by serial
};

class CertificateStore {
 public:
  virtual ~CertificateStore() = default;

  // Certificates. AlreadyExists if the serial was ever used.
  virtual Status RecordCertificate(const IssuedCertificate& cert) = 0;
  virtual Result<std::vector<IssuedCertificate>> ListCertificates(const std::string& user) = 0;

  // NotFound for a serial never recorded.
  virtual Result<IssuedCertificate> GetCertificate(std::uint64_t serial) = 0;

  // Revocations: primitives only. Which certificates to revoke and when the
  // revocation list version moves are decided by RevocationService
  // (issuer/revocation.h), which calls these in one Store::InTransaction.
  // GetRevocation: NotFound if the serial is not revoked. AddRevocation:
  // NotFound if no certificate with that serial was issued (only
  // certificates this CA issued can be revoked), AlreadyExists if it is
  // revoked already; revocations are never removed. BumpRevocationVersion
  // increments the version (never reused) and returns the new one.
  virtual Result<Revocation> GetRevocation(std::uint64_t serial) = 0;
  virtual Status AddRevocation(const Revocation& revocation) = 0;
  virtual Result<std::uint64_t> BumpRevocationVersion() = 0;
  // The version and the revocations with valid_before > now, in one read.
  virtual Result<RevocationList> ListRevocations(std::int64_t now) = 0;
};

}  // namespace gate::ca

#endif  // GATE_CA_STORE_CERTIFICATE_STORE_H_
