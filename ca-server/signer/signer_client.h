// SignerClient: the front end's CertificateAuthority. Forwards each call to
// the signer process over the socketpair (signer/protocol.h) and never sees
// a private key.
//
// Fails closed: any I/O or protocol failure (the signer died, hung past the
// timeout, or answered out of step) makes this call, every call in flight
// and every later call fail with Unavailable("signer unavailable: ..."),
// logs it, shuts the socket down (so the signer exits, and gate-ca with it)
// and calls on_lost once. A refusal by the signer is returned as the
// signer's Status and changes nothing.
//
// Thread safety: every method may be called from many threads at once.
// Concurrent calls are all in flight together on the one socket: each sends
// its request at once, and one waiting caller at a time reads replies and
// hands each to the caller with its id. The signer answers them in order
// without waiting between them, so a busy signer never sleeps between
// requests (docs/benchmarks.md says what that saves).
#ifndef GATE_CA_SIGNER_SIGNER_CLIENT_H_
#define GATE_CA_SIGNER_SIGNER_CLIENT_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

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

  // A call waiting for its reply: filled in by whichever caller reads it.
  struct Waiter {
    std::optional<SignerPayload> reply;
    std::condition_variable ready;  // signalled when reply is set, the
                                    // connection is lost, or it should read
  };

  // One request and its reply. An SignerErrorReply is returned as its Status.
  Result<SignerPayload> Call(SignerPayload request);
  // Reads one reply (mu_ released meanwhile) and gives it to its waiter.
  // Requires mu_ held through lock and reading_ set by the caller.
  void ReadOneReply(std::unique_lock<std::mutex>& lock);
  // Wakes one waiter still without a reply to take over reading. Requires mu_.
  void HandOverReading();
  // Marks the connection lost: shuts the socket down (the descriptor stays
  // open until destruction, since other callers may be in send or recv on
  // it) and wakes every waiter. Requires mu_.
  Status Lost(const Status& why);
  // The certificate in a reply (nullptr: the reply was of the wrong type),
  // if it is of type, by the matching CA, for key_id; else Lost.
  Result<ssh::Certificate> CheckIssued(const std::string* blob, ssh::CertType type,
                                       const std::string& key_id);

  std::mutex mu_;
  const UniqueFd fd_;                         // never reset while callers may use it
  std::uint32_t next_id_ = 1;                 // guarded by mu_
  bool lost_ = false;                         // guarded by mu_
  std::string lost_reason_;                   // guarded by mu_
  bool reading_ = false;                      // a caller is in recv; guarded by mu_
  std::map<std::uint32_t, Waiter*> waiting_;  // requests in flight; guarded by mu_
  std::function<void()> on_lost_;
  ssh::Ed25519PublicKey user_ca_;  // set by Connect, then constant
  ssh::Ed25519PublicKey host_ca_;
};

}  // namespace gate::ca

#endif  // GATE_CA_SIGNER_SIGNER_CLIENT_H_
