#include "ca-server/auth/authenticator.h"

#include "ca-server/auth/locks.h"
#include "ca-server/auth/password.h"
#include "ca-server/auth/totp.h"
#include "gate/duration.h"

namespace gate::ca {

std::string RemainingLockout(std::int64_t locked_until, std::int64_t now) {
  return FormatDuration(std::chrono::seconds(std::max<std::int64_t>(locked_until - now, 1)));
}

namespace {

constexpr char kOtpEvent[] = "user.otp";

// Spends about what a real code check costs, so an unknown user's reply
// does not come back measurably sooner than a wrong code's.
void BurnTotpVerification(const SecretString& code, std::int64_t now) {
  static const SecretString kDummySecret(std::string(kTotpSecretBytes, '\x5a'));
  (void)VerifyTotp(kDummySecret, code.view(), now);
}

// A node's central OTP checks are throttled as a source of their own, apart
// from any address logins come from.
std::string NodeSource(const std::string& host_uuid) { return "node " + host_uuid; }

}  // namespace

Status Authenticator::Fail(const std::string& user, const std::string& event,
                           const std::string& source, const std::string& throttle_source,
                           std::int64_t now, const std::string& reason, Status status) {
  std::string detail = reason;
  auto blocked = throttle_.RecordFailure(user, throttle_source, now);
  if (!blocked) return blocked.error();
  if (*blocked) {
    detail += "; " + throttle_source + " blocked for this user for " +
              FormatDuration(options_.lockout_duration);
  }
  audit_.Record({now, event, user, source, false, detail});
  return status;
}

Status Authenticator::CheckThrottle(const std::string& user, const std::string& event,
                                    const std::string& source, const std::string& throttle_source,
                                    std::int64_t now) {
  Status allowed = throttle_.Check(user, throttle_source, now);
  if (allowed.code() == Code::kResourceExhausted) {
    audit_.Record({now, event, user, source, false, "throttled"});
  }
  return allowed;
}

Status Authenticator::CheckOtpCode(const UserRecord& user, const SecretString& otp_code,
                                   const std::string& event, const std::string& source,
                                   const std::string& throttle_source, std::int64_t now,
                                   std::int64_t code_time) {
  auto step = VerifyTotp(user.totp_secret, otp_code.view(), code_time);
  if (!step) {
    return Fail(user.name, event, source, throttle_source, now, "wrong OTP code",
                Unauthenticated(std::string(kBadOtpCode)));
  }
  auto fresh = store_.ConsumeTotpStep(user.name, *step);
  if (!fresh) return fresh.error();
  if (!*fresh) {
    return Fail(user.name, event, source, throttle_source, now, "reused OTP code",
                Unauthenticated("OTP code already used; wait for the next code"));
  }
  return Status::Ok();
}

bool Authenticator::NeedsOtpCode(const UserRecord& user) const {
  switch (options_.second_factor) {
    case SecondFactor::kOtp:
    case SecondFactor::kOn:
    case SecondFactor::kWebauthn:
      return true;
    case SecondFactor::kOptional:
      return !user.totp_secret.empty();
    case SecondFactor::kOff:
      return false;
  }
  return true;
}

Status Authenticator::CheckDevicesForPasswordLogin(const UserRecord& user, const std::string& event,
                                                   const std::string& source, std::int64_t now) {
  // With `optional`, a user without an OTP app logs in with the password
  // alone only if no security key is registered either: a key-holder must
  // use the key, which this path cannot take.
  if (options_.second_factor != SecondFactor::kOptional || !user.totp_secret.empty()) {
    return Status::Ok();
  }
  Result<std::vector<MfaDevice>> devices = store_.ListDevices(user.name);
  if (!devices) return devices.error();
  if (devices->empty()) return Status::Ok();
  audit_.Record({now, event, user.name, source, false, "security key required"});
  return FailedPrecondition("this user logs in with a security key; use the web login");
}

Result<UserRecord> Authenticator::Authenticate(const std::string& name,
                                               const SecretString& password,
                                               const SecretString& otp_code,
                                               const std::string& source, std::int64_t now,
                                               std::optional<std::int64_t> code_time,
                                               std::string_view event_name) {
  const std::string event(event_name);
  // Before the user is even looked up, so known and unknown names are
  // throttled alike, and a throttled source gets no password check at all.
  GATE_RETURN_IF_ERROR(CheckThrottle(name, event, source, source, now));

  auto user = store_.GetUser(name);
  // A connector's user has no password: it is refused like an unknown
  // name, so a password can never stand in for the identity provider.
  if (!user || !user->signed_up() || user->sso()) {
    if (!user && user.error().code() != Code::kNotFound) return Err(user.error());
    BurnPasswordVerification(password.view());
    return Err(Fail(name, event, source, source, now,
                    !user         ? "unknown user"
                    : user->sso() ? "user logs in through connector " + user->connector
                                  : "user has not signed up",
                    Unauthenticated(std::string(kBadLogin))));
  }

  if (!VerifyPassword(user->password_hash, password.view())) {
    return Err(Fail(name, event, source, source, now, "wrong password",
                    Unauthenticated(std::string(kBadLogin))));
  }

  GATE_RETURN_IF_ERROR(CheckDevicesForPasswordLogin(*user, event, source, now));
  if (NeedsOtpCode(*user)) {
    if (user->totp_secret.empty()) {
      audit_.Record({now, event, name, source, false, "no OTP device enrolled"});
      return Err(FailedPrecondition(
          "no OTP device is enrolled for this user; ask an admin to reset the account"));
    }
    if (otp_code.empty()) {
      return Err(Fail(name, event, source, source, now, "missing OTP code",
                      Unauthenticated(std::string(kBadLogin))));
    }
    Status code =
        CheckOtpCode(*user, otp_code, event, source, source, now, code_time.value_or(now));
    if (code.code() == Code::kUnauthenticated) return Err(Unauthenticated(std::string(kBadLogin)));
    GATE_RETURN_IF_ERROR(code);
  }

  GATE_RETURN_IF_ERROR(throttle_.RecordSuccess(name, source));
  return user;
}

Status Authenticator::VerifySecondFactor(const std::string& name, const SecretString& otp_code,
                                         const std::string& source, std::int64_t now,
                                         std::optional<std::int64_t> code_time) {
  const std::string node = NodeSource(source);
  GATE_RETURN_IF_ERROR(CheckThrottle(name, kOtpEvent, source, node, now));
  auto user = store_.GetUser(name);
  if (!user || !user->signed_up() || user->totp_secret.empty()) {
    if (!user && user.error().code() != Code::kNotFound) return user.error();
    BurnTotpVerification(otp_code, now);
    const char* why = !user                ? "unknown user"
                      : !user->signed_up() ? "user has not signed up"
                                           : "no OTP device enrolled";
    return Fail(name, kOtpEvent, source, node, now, why, Unauthenticated(std::string(kBadOtpCode)));
  }
  GATE_RETURN_IF_ERROR(
      CheckOtpCode(*user, otp_code, kOtpEvent, source, node, now, code_time.value_or(now)));
  GATE_RETURN_IF_ERROR(throttle_.RecordSuccess(name, node));
  // As at login, a lock is revealed only to someone who proved the factor.
  if (Status locked = CheckNotLocked(store_, name, now); !locked.ok()) {
    audit_.Record({now, kOtpEvent, name, source, false, locked.message()});
    return locked;
  }
  audit_.Record({now, kOtpEvent, name, source, true, "OTP code accepted"});
  return Status::Ok();
}

}  // namespace gate::ca
