#include "ca-server/issuer/revocation.h"

#include <algorithm>
#include <utility>

namespace gate::ca {

Result<Revocation> RevocationService::RevokeCertificate(std::uint64_t serial, std::int64_t now) {
  Revocation revocation;
  Status status = store_.InTransaction([&](StoreOperations& tx) -> Status {
    Result<Revocation> existing = tx.GetRevocation(serial);
    if (existing) {
      revocation = *std::move(existing);
      return Status::Ok();
    }
    if (existing.error().code() != Code::kNotFound) return existing.error();
    Result<IssuedCertificate> cert = tx.GetCertificate(serial);
    if (!cert) return cert.error();
    revocation = {serial, cert->user, now, cert->valid_before};
    GATE_RETURN_IF_ERROR(tx.AddRevocation(revocation));
    Result<std::uint64_t> version = tx.BumpRevocationVersion();
    return version ? Status::Ok() : version.error();
  });
  if (!status.ok()) return Err(status);
  return revocation;
}

Result<std::vector<Revocation>> RevocationService::RevokeUserCertificates(const std::string& user,
                                                                          std::int64_t now) {
  std::vector<Revocation> revoked;
  Status status = store_.InTransaction([&](StoreOperations& tx) -> Status {
    revoked.clear();
    Result<std::vector<IssuedCertificate>> certs = tx.ListCertificates(user);
    if (!certs) return certs.error();
    for (const IssuedCertificate& cert : *certs) {
      if (cert.valid_before <= now) continue;
      Result<Revocation> existing = tx.GetRevocation(cert.serial);
      if (existing) continue;
      if (existing.error().code() != Code::kNotFound) return existing.error();
      Revocation revocation{cert.serial, user, now, cert.valid_before};
      GATE_RETURN_IF_ERROR(tx.AddRevocation(revocation));
      revoked.push_back(revocation);
    }
    if (revoked.empty()) return Status::Ok();
    Result<std::uint64_t> version = tx.BumpRevocationVersion();
    return version ? Status::Ok() : version.error();
  });
  if (!status.ok()) return Err(status);
  std::sort(revoked.begin(), revoked.end(),
            [](const Revocation& a, const Revocation& b) { return a.serial < b.serial; });
  return revoked;
}

}  // namespace gate::ca
