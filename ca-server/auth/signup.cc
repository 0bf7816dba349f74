#include "ca-server/auth/signup.h"

#include "ca-server/auth/password.h"
#include "ca-server/auth/tokens.h"
#include "ca-server/auth/totp.h"

namespace gate::ca {
namespace {

constexpr std::string_view kUnknownToken =
    "signup token not found or already used; ask an admin for a new one";

// The signup rule on a stored token: it is usable while now < expires_at.
Status CheckUnexpired(const SignupToken& record, std::int64_t now) {
  if (record.expires_at > now) return Status::Ok();
  return FailedPrecondition(
      "signup token expired; ask an admin for a new one (gatectl users reset " + record.user + ")");
}

}  // namespace

Result<std::string> SignupService::CreateToken(const std::string& user, std::chrono::seconds ttl,
                                               std::int64_t now) {
  auto token = NewToken();
  if (!token) return Err(token.error());
  SignupToken record;
  record.token_hash = HashToken(*token);
  record.user = user;
  record.created_at = now;
  record.expires_at = now + ttl.count();
  GATE_RETURN_IF_ERROR(store_.CreateSignupToken(record));
  return token;
}

Result<SignupToken> SignupService::FindLiveToken(const std::string& token, std::int64_t now) {
  if (!LooksLikeToken(token)) return Err(NotFound(std::string(kUnknownToken)));
  auto record = store_.GetSignupToken(HashToken(token));
  if (!record) {
    if (record.error().code() == Code::kNotFound) return Err(NotFound(std::string(kUnknownToken)));
    return Err(record.error());
  }
  // The CLI's answer stays one for unknown and used tokens; the web signup
  // tells them apart through TokenState.
  if (record->used_at != 0) return Err(NotFound(std::string(kUnknownToken)));
  GATE_RETURN_IF_ERROR(CheckUnexpired(*record, now));
  return record;
}

Result<SignupTokenState> SignupService::TokenState(const std::string& token, std::int64_t now) {
  if (!LooksLikeToken(token)) return SignupTokenState::kUnknown;
  auto record = store_.GetSignupToken(HashToken(token));
  if (!record) {
    if (record.error().code() == Code::kNotFound) return SignupTokenState::kUnknown;
    return Err(record.error());
  }
  if (record->used_at != 0) return SignupTokenState::kUsed;
  if (!CheckUnexpired(*record, now).ok()) return SignupTokenState::kExpired;
  return SignupTokenState::kLive;
}

Status SignupService::PruneTokens(std::int64_t now) {
  return store_.DeleteExpiredSignupTokens(
      now - std::chrono::duration_cast<std::chrono::seconds>(kSpentSignupTokenMemory).count());
}

Result<SignupOffer> SignupService::Start(const std::string& token, std::int64_t now) {
  auto record = FindLiveToken(token, now);
  if (!record) return Err(record.error());
  SignupOffer offer;
  offer.user = record->user;
  offer.expires_at = record->expires_at;
  // Every mode but off offers an OTP app: with on it is the user's first
  // device, with optional it may be declined (Finish without a code).
  if (options_.second_factor != SecondFactor::kOff) {
    if (record->totp_secret.empty()) {
      auto secret = GenerateTotpSecret();
      if (!secret) return Err(secret.error());
      auto offered = store_.OfferTotpSecret(record->token_hash, *secret);
      if (!offered) return Err(offered.error());
      record = std::move(offered);
    }
    offer.totp_uri = TotpUri(record->totp_secret, record->user, options_.cluster_name);
  }
  return offer;
}

Result<std::string> SignupService::Finish(const std::string& token, const SecretString& password,
                                          const SecretString& otp_code, const std::string& source,
                                          std::int64_t now) {
  auto record = FindLiveToken(token, now);
  if (!record) {
    audit_.Record({now, "user.signup", "", source, false, record.error().message()});
    return Err(record.error());
  }
  GATE_RETURN_IF_ERROR(CheckPasswordPolicy(password.view(), options_.password_min_length));

  std::int64_t step = -1;
  SecretString secret;
  const bool declined = options_.second_factor == SecondFactor::kOptional && otp_code.empty();
  if (options_.second_factor != SecondFactor::kOff && !declined) {
    if (record->totp_secret.empty()) {
      return Err(FailedPrecondition("OTP enrollment was not started for this token"));
    }
    auto matched = VerifyTotp(record->totp_secret, otp_code.view(), now);
    if (!matched) {
      audit_.Record({now, "user.signup", record->user, source, false, "wrong OTP code"});
      return Err(matched.error().code() == Code::kInvalidArgument
                     ? matched.error()
                     : Unauthenticated(
                           "invalid OTP code; check the device's clock and try the next code"));
    }
    step = *matched;
    secret = record->totp_secret;
  }

  auto hash = HashPassword(password.view());
  if (!hash) return Err(hash.error());
  // Checked again on the row the transaction consumes, with the same clock.
  GATE_RETURN_IF_ERROR(store_.CompleteSignup(
      record->token_hash, [&](const SignupToken& stored) { return CheckUnexpired(stored, now); },
      *hash, secret, step, now));
  audit_.Record({now, "user.signup", record->user, source, true, ""});
  return record->user;
}

}  // namespace gate::ca
