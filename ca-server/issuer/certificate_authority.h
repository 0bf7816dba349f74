// CertificateAuthority: what the front end asks of the CA keys, by intent.
// In gate-ca the implementation is SignerClient (signer/signer_client.h),
// which forwards each call to the signer process; SignerService
// (signer/signer_service.h) is the implementation inside that process and
// the one in-process tests use. Neither signs caller-chosen bytes: each
// re-derives the decision from the store (docs/security.md, "Processes").
#ifndef GATE_CA_ISSUER_CERTIFICATE_AUTHORITY_H_
#define GATE_CA_ISSUER_CERTIFICATE_AUTHORITY_H_

#include <chrono>
#include <string>
#include <vector>

#include "gate/certificate.h"
#include "gate/ed25519.h"
#include "gate/status.h"

namespace gate::ca {

struct UserCertificateRequest {
  std::string user;
  std::chrono::seconds ttl{0};  // the exact lifetime, > 0 and within the grant's cap
  ssh::Ed25519PublicKey public_key;
  // The principals wanted, each of which the grant must allow; empty asks
  // for every login the grant gives.
  std::vector<std::string> logins;
  std::string source;  // the login's peer address, for the audit log
};

struct HostCertificateRequest {
  std::string host_uuid;             // a registered node
  ssh::Ed25519PublicKey public_key;  // must be the node's registered host key
  std::vector<std::string> principals;
  std::string source;
};

struct IssuedUserCertificate {
  ssh::Certificate certificate;
  std::vector<std::string> extensions;  // names, sorted
  std::vector<std::string> roles;       // the user's roles that exist (the grant's)
};

// Implementations are thread-safe.
class CertificateAuthority {
 public:
  virtual ~CertificateAuthority() = default;

  virtual const ssh::Ed25519PublicKey& user_ca() const = 0;
  virtual const ssh::Ed25519PublicKey& host_ca() const = 0;

  // A user certificate: key id = user, the requested logins (or all the
  // grant's), the grant's extensions, valid from now - backdate to now + ttl,
  // a fresh serial recorded in the store before the certificate exists.
  // Refuses, with the reason: an unknown user (NotFound), one who has not
  // signed up or whose grant has no logins (FailedPrecondition), a lock in
  // force, a login the grant does not give or a ttl over the cap
  // (PermissionDenied), a malformed request (InvalidArgument). Unavailable
  // when the signer cannot be reached.
  virtual Result<IssuedUserCertificate> SignUserCertificate(const UserCertificateRequest& req) = 0;

  // A host certificate: key id = host UUID, the principals, no extensions.
  // Refuses an unknown node (NotFound), a key that is not the node's
  // registered host key (PermissionDenied), malformed principals or id
  // (InvalidArgument). Unavailable when the signer cannot be reached.
  virtual Result<ssh::Certificate> SignHostCertificate(const HostCertificateRequest& req) = 0;
};

}  // namespace gate::ca

#endif  // GATE_CA_ISSUER_CERTIFICATE_AUTHORITY_H_
