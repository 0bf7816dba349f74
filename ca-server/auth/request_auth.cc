#include "ca-server/auth/request_auth.h"

#include <utility>

#include "ca-server/auth/locks.h"
#include "gate/request_signing.h"

namespace gate::ca {

NonceCache::Outcome NonceCache::Insert(const std::string& nonce, std::int64_t expires_at,
                                       std::int64_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now) {
    seen_.erase(by_expiry_.begin()->second);
    by_expiry_.erase(by_expiry_.begin());
  }
  if (seen_.count(nonce) != 0) return Outcome::kReplay;
  if (seen_.size() >= max_entries_) return Outcome::kFull;
  seen_.emplace(nonce, expires_at);
  by_expiry_.emplace(expires_at, nonce);
  return Outcome::kFresh;
}

std::size_t NonceCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seen_.size();
}

RequestAuthenticator::RequestAuthenticator(Store& store, AuditLog& audit,
                                           ssh::Ed25519PublicKey user_ca, RateLimiter& limiter,
                                           RequestAuthOptions options,
                                           std::function<std::int64_t()> now)
    : store_(store),
      audit_(audit),
      user_ca_(std::move(user_ca)),
      limiter_(limiter),
      options_(options),
      now_(std::move(now)),
      nonces_(options.max_nonces) {}

Result<SignedUser> RequestAuthenticator::Authenticate(const SignedRequest& request) {
  if (!limiter_.Allow(request.source, std::chrono::steady_clock::now())) {
    audit_.RecordRefusal(request.source, "signed request", now_());
    return Err(ResourceExhausted("too many requests; slow down and try again in a minute"));
  }
  std::string user;
  auto result = Check(request, &user);
  if (!result) {
    // Store failures are gate-ca's problem, not a refused credential.
    const Code code = result.error().code();
    if (code == Code::kUnauthenticated || code == Code::kPermissionDenied ||
        code == Code::kResourceExhausted) {
      audit_.Record({now_(), "user.signed_request", user, request.source, false,
                     request.method + " " + request.target.substr(0, request.target.find('?')) +
                         ": " + result.error().message()});
    }
  }
  return result;
}

Result<SignedUser> RequestAuthenticator::Check(const SignedRequest& request,
                                               std::string* user_for_audit) {
  auto blob = signing::ParseAuthorization(request.authorization);
  if (!blob) return Err(blob.error());
  auto signature = signing::ParseSignatureHeader(request.signature);
  if (!signature) return Err(signature.error());
  auto cert = ssh::ParseCertificate(*blob);
  if (!cert) return Err(Unauthenticated("invalid Gate certificate: " + cert.error().message()));
  if (cert->spec.type != ssh::CertType::kUser) {
    return Err(Unauthenticated("a host certificate cannot sign user requests"));
  }
  if (!(cert->signature_key == user_ca_)) {
    return Err(
        Unauthenticated("the certificate is not signed by this cluster's user CA; run "
                        "gate login against this proxy"));
  }
  *user_for_audit = cert->spec.key_id.substr(0, 64);
  const std::int64_t now = now_();
  if (Status s = ssh::CheckValidity(*cert, static_cast<std::uint64_t>(now < 0 ? 0 : now));
      !s.ok()) {
    return Err(Unauthenticated(s.message() + "; run gate login"));
  }
  const std::int64_t skew = signature->timestamp - now;
  if (skew > options_.max_skew.count() || -skew > options_.max_skew.count()) {
    return Err(Unauthenticated(
        "the request is dated " + std::to_string(skew) + " s from gate-ca's clock (at most " +
        std::to_string(options_.max_skew.count()) + " s allowed); check this computer's clock"));
  }
  if (!signing::VerifyRequest(cert->spec.public_key, *signature, request.method, request.target,
                              request.body)) {
    return Err(Unauthenticated("the request signature does not verify"));
  }
  // After the signature: only requests the key holder made can take a slot.
  switch (nonces_.Insert(signature->nonce, signature->timestamp + options_.max_skew.count(), now)) {
    case NonceCache::Outcome::kFresh:
      break;
    case NonceCache::Outcome::kReplay:
      return Err(Unauthenticated("the request was replayed (its nonce was used before)"));
    case NonceCache::Outcome::kFull:
      return Err(ResourceExhausted("too many signed requests at once; try again in a minute"));
  }
  auto revocations = store_.ListRevocations(now);
  if (!revocations) return Err(revocations.error());
  for (const Revocation& r : revocations->revocations) {
    if (r.serial == cert->spec.serial) {
      return Err(Unauthenticated("the certificate has been revoked; run gate login"));
    }
  }
  auto user = store_.GetUser(cert->spec.key_id);
  if (!user) {
    if (user.error().code() == Code::kNotFound) {
      return Err(Unauthenticated("the certificate's user no longer exists"));
    }
    return Err(user.error());
  }
  GATE_RETURN_IF_ERROR(CheckNotLocked(store_, user->name, now));
  return SignedUser{*std::move(user), *std::move(cert)};
}

}  // namespace gate::ca
