#include "ca-server/auth/authenticator.h"

#include "ca-server/auth/password.h"
#include "ca-server/auth/totp.h"
#include "gate/duration.h"

namespace gate::ca {

std::string RemainingLockout(std::int64_t locked_until, std::int64_t now) {
  return FormatDuration(std::chrono::seconds(std::max<std::int64_t>(locked_until - now, 1)));
}

Status Authenticator::Fail(const UserRecord& user, const std::string& source, std::int64_t now,
                           const std::string& reason, Status status) {
  std::string detail = reason;
  auto updated = store_.RecordLoginFailure(user.name, now, options_.lockout_attempts,
                                           options_.lockout_duration.count());
  if (!updated) return updated.error();
  if (updated->locked_until > now) {
    detail += "; locked out for " + FormatDuration(options_.lockout_duration);
  }
  audit_.Record({now, "user.login", user.name, source, false, detail});
  return status;
}

Result<UserRecord> Authenticator::Authenticate(const std::string& name,
                                               const SecretString& password,
                                               const SecretString& otp_code,
                                               const std::string& source, std::int64_t now) {
  auto user = store_.GetUser(name);
  if (!user || !user->signed_up()) {
    if (!user && user.error().code() != Code::kNotFound) return Err(user.error());
    BurnPasswordVerification(password.view());
    audit_.Record({now, "user.login", name, source, false,
                   user ? "user has not signed up" : "unknown user"});
    return Err(Unauthenticated(std::string(kBadCredentials)));
  }

  // A locked-out user gets no password check at all, so guessing cannot go on.
  if (user->locked_until > now) {
    audit_.Record({now, "user.login", name, source, false, "locked out"});
    return Err(ResourceExhausted("too many failed login attempts; try again in " +
                                 RemainingLockout(user->locked_until, now)));
  }

  if (!VerifyPassword(user->password_hash, password.view())) {
    return Err(Fail(*user, source, now, "wrong password",
                    Unauthenticated(std::string(kBadCredentials))));
  }

  if (options_.second_factor == SecondFactor::kOtp) {
    if (user->totp_secret.empty()) {
      audit_.Record({now, "user.login", name, source, false, "no OTP device enrolled"});
      return Err(FailedPrecondition(
          "no OTP device is enrolled for this user; ask an admin to reset the account"));
    }
    if (otp_code.empty()) {
      return Err(Fail(*user, source, now, "missing OTP code",
                      Unauthenticated("an OTP code is required")));
    }
    auto step = VerifyTotp(user->totp_secret, otp_code.view(), now);
    if (!step) {
      return Err(Fail(*user, source, now, "wrong OTP code", Unauthenticated("invalid OTP code")));
    }
    auto fresh = store_.ConsumeTotpStep(name, *step);
    if (!fresh) return Err(fresh.error());
    if (!*fresh) {
      return Err(Fail(*user, source, now, "reused OTP code",
                      Unauthenticated("OTP code already used; wait for the next code")));
    }
  }

  GATE_RETURN_IF_ERROR(store_.RecordLoginSuccess(name));
  user->failed_attempts = 0;
  return user;
}

}  // namespace gate::ca
