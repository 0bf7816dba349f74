// Users' signed requests (gate/request_signing.h): the credential is the
// Gate certificate from `gate login` and a signature by its key over the
// request, fresh (timestamp within max_skew of gate-ca's clock) and never
// seen before (its nonce is remembered for the window in which the
// timestamp would still pass). docs/api.md, "Signed requests";
// docs/security.md.
//
// Thread safety: all methods may be called concurrently.
#ifndef GATE_CA_AUTH_REQUEST_AUTH_H_
#define GATE_CA_AUTH_REQUEST_AUTH_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#include "ca-server/audit/audit.h"
#include "ca-server/auth/rate_limiter.h"
#include "ca-server/store/store.h"
#include "gate/certificate.h"
#include "gate/ed25519.h"
#include "gate/status.h"

namespace gate::ca {

// The nonces of accepted requests, each until its expiry. Bounded: when it
// holds max_entries unexpired nonces a new one is refused (kFull) rather
// than an old one forgotten, which would re-open a replay window. Only
// requests with a valid signature by a valid certificate get this far, and
// each source is rate limited before that.
class NonceCache {
 public:
  enum class Outcome { kFresh, kReplay, kFull };

  explicit NonceCache(std::size_t max_entries) : max_entries_(max_entries) {}

  // Forgets nonces with expires_at <= now, then remembers nonce until
  // expires_at: kFresh. kReplay if it is remembered already (nothing
  // changes); kFull as above.
  Outcome Insert(const std::string& nonce, std::int64_t expires_at, std::int64_t now);
  std::size_t size() const;

 private:
  const std::size_t max_entries_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::int64_t> seen_;  // guarded by mu_
  std::multimap<std::int64_t, std::string> by_expiry_;  // guarded by mu_
};

struct RequestAuthOptions {
  std::chrono::seconds max_skew{60};
  std::size_t max_nonces = 100000;
};

// What a signed request carries, as the HTTP layer received it.
struct SignedRequest {
  std::string method;
  std::string target;  // path, and "?" query when there is one, as sent
  std::string body;
  std::string authorization;  // "Gate-Cert <base64>"
  std::string signature;      // X-Gate-Signature
  std::string source;         // peer address
};

struct SignedUser {
  UserRecord user;
  ssh::Certificate certificate;
};

class RequestAuthenticator {
 public:
  // References must outlive the object. limiter: the per-source bucket
  // every signed request takes a token from. now: unix seconds.
  RequestAuthenticator(Store& store, AuditLog& audit, ssh::Ed25519PublicKey user_ca,
                       RateLimiter& limiter, RequestAuthOptions options,
                       std::function<std::int64_t()> now);

  // In order: the source's rate limit (ResourceExhausted); the headers
  // parse; the certificate parses, is a user certificate signed by user_ca
  // and valid now; the timestamp is within max_skew; the signature verifies
  // with the certified key; the nonce is new (ResourceExhausted if the cache
  // is full); the certificate is not revoked; the user exists; no admin lock
  // is in force (PermissionDenied). Every other failure is Unauthenticated
  // with a message that says what to do. Failures are audited
  // ("user.signed_request"), never with the headers' contents.
  Result<SignedUser> Authenticate(const SignedRequest& request);

 private:
  Result<SignedUser> Check(const SignedRequest& request, std::string* user_for_audit);

  Store& store_;
  AuditLog& audit_;
  const ssh::Ed25519PublicKey user_ca_;
  RateLimiter& limiter_;
  const RequestAuthOptions options_;
  const std::function<std::int64_t()> now_;
  NonceCache nonces_;
};

}  // namespace gate::ca

#endif  // GATE_CA_AUTH_REQUEST_AUTH_H_
