// SignerClient: the front end's CertificateAuthority. Forwards each call to
// the signer process over the socketpair (signer/protocol.h) and never sees
// a private key.
//
// Fails closed: any I/O or protocol failure (the signer died, hung past the
// timeout, or answered out of step) makes this and every later call fail
// with Unavailable("signer unavailable: ..."), logs it, closes the socket
// (so the signer exits, and gate-ca with it) and calls on_lost once. A
// refusal by the signer is returned as the signer's Status and changes
// nothing.
//
// Thread safety: every method may be called from many threads at once; calls
// take turns on the one socket (the signer serves one request at a time, so
// more sockets would only queue there instead).
#ifndef GATE_CA_SIGNER_SIGNER_CLIENT_H_
#define GATE_CA_SIGNER_SIGNER_CLIENT_H_

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>

#include "ca-server/issuer/certificate_authority.h"
#include "ca-server/signer/protocol.h"
#include "gate/unique_fd.h"

namespace gate::ca {

class SignerClient final : public CertificateAuthority {
 public:
  // Takes the socket, sets its receive timeout, and asks for the CA public
  // keys. Unavailable if the signer does not answer.
  static Result<std::unique_ptr<SignerClient>> Connect(
      UniqueFd fd, std::chrono::seconds timeout = std::chrono::seconds(10),
      std::function<void()> on_lost = {});

  const ssh::Ed25519PublicKey& user_ca() const override { return user_ca_; }
  const ssh::Ed25519PublicKey& host_ca() const override { return host_ca_; }

  Result<IssuedUserCertificate> SignUserCertificate(const UserCertificateRequest& req) override;
  Result<ssh::Certificate> SignHostCertificate(const HostCertificateRequest& req) override;

 private:
  SignerClient(UniqueFd fd, std::function<void()> on_lost)
      : fd_(std::move(fd)), on_lost_(std::move(on_lost)) {}

  // One request and its reply. An SignerErrorReply is returned as its Status.
  Result<SignerPayload> Call(SignerPayload request);
  Status Lost(const Status& why);  // requires mu_
  // The certificate in a reply (nullptr: the reply was of the wrong type),
  // if it is of type, by the matching CA, for key_id; else Lost.
  Result<ssh::Certificate> CheckIssued(const std::string* blob, ssh::CertType type,
                                       const std::string& key_id);

  std::mutex mu_;
  UniqueFd fd_;                // guarded by mu_
  std::uint32_t next_id_ = 1;  // guarded by mu_
  bool lost_ = false;          // guarded by mu_
  std::function<void()> on_lost_;
  ssh::Ed25519PublicKey user_ca_;  // set by Connect, then constant
  ssh::Ed25519PublicKey host_ca_;
};

}  // namespace gate::ca

#endif  // GATE_CA_SIGNER_SIGNER_CLIENT_H_
