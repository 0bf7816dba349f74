// SignerService: the CA keys and the decision to use them, inside the signer
// process (OpenSSH's monitor: the privileged side re-checks the decision
// instead of trusting the caller). It re-derives every grant from its own
// connection to the store, picks and records the serial, signs, and writes
// its own audit event for every signature and every refusal.
//
// The keys are ssh::Signer objects (ca_keys.h): a key held elsewhere (a
// PKCS#11 token) is another ssh::Signer and changes nothing here or in the
// front end.
//
// Thread safety: every method may be called concurrently (the store and the
// Signers are thread-safe; the service keeps no other state).
#ifndef GATE_CA_SIGNER_SIGNER_SERVICE_H_
#define GATE_CA_SIGNER_SIGNER_SERVICE_H_

#include <chrono>
#include <cstdint>
#include <functional>

#include "ca-server/audit/audit.h"
#include "ca-server/issuer/certificate_authority.h"
#include "ca-server/signer/ca_keys.h"
#include "ca-server/store/store.h"

namespace gate::ca {

struct SignerOptions {
  std::chrono::seconds max_user_ttl{30 * 3600};  // gate.yaml max_cert_ttl
  std::chrono::seconds host_ttl{30 * 24 * 3600};
  // Certificates are valid from a minute before issuance, so a host whose
  // clock is slightly behind still accepts a fresh one.
  std::chrono::seconds backdate{60};
};

class SignerService final : public CertificateAuthority {
 public:
  // keys must hold both CAs. now: the signer's own clock (never the
  // caller's: a front end that chose the time could pick one when a lock had
  // not started yet).
  SignerService(SignerOptions options, CaKeys keys, Store& store,
                std::function<std::int64_t()> now);

  const ssh::Ed25519PublicKey& user_ca() const override { return keys_.user->public_key(); }
  const ssh::Ed25519PublicKey& host_ca() const override { return keys_.host->public_key(); }

  // See CertificateAuthority. Audit events "signer.user_cert" and
  // "signer.host_cert", success or refusal with its reason.
  Result<IssuedUserCertificate> SignUserCertificate(const UserCertificateRequest& req) override;
  Result<ssh::Certificate> SignHostCertificate(const HostCertificateRequest& req) override;

 private:
  Result<IssuedUserCertificate> DecideAndSignUser(const UserCertificateRequest& req,
                                                  std::int64_t now);
  Result<ssh::Certificate> DecideAndSignHost(const HostCertificateRequest& req, std::int64_t now);

  SignerOptions options_;
  CaKeys keys_;
  Store& store_;
  AuditLog audit_;
  std::function<std::int64_t()> now_;
};

}  // namespace gate::ca

#endif  // GATE_CA_SIGNER_SIGNER_SERVICE_H_
