// Authenticator: password + second factor for a login, and the second
// factor alone, for pam_gate.so on a node (POST /v1/nodes/otp/verify), both
// throttled per user and per source (LoginThrottle).
//
// The one place that decides "is this really user X". Unknown users, users
// not signed up and wrong passwords get the same answer, the same
// throttling and about the same cost (a dummy argon2 verification), so a
// caller cannot probe for user names. Both paths share the last accepted
// TOTP step (UserStore::ConsumeTotpStep), so a code accepted by one is
// refused by the other, and count failures against the same name; each
// path's source is its own (a peer address; "node <host UUID>").
#ifndef GATE_CA_AUTH_AUTHENTICATOR_H_
#define GATE_CA_AUTH_AUTHENTICATOR_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "ca-server/audit/audit.h"
#include "ca-server/auth/login_throttle.h"
#include "ca-server/store/store.h"
#include "gate/config.h"
#include "gate/secret.h"
#include "gate/status.h"

namespace gate::ca {

// A login's one answer to every wrong user name, password or OTP code: a
// separate answer for a wrong code would tell whoever is guessing that the
// password was right.
inline constexpr std::string_view kBadLogin = "invalid user name, password or OTP code";
inline constexpr std::string_view kBadOtpCode = "invalid OTP code";
// The audit events of password logins: the CLI's, and the browser's.
inline constexpr std::string_view kLoginAuditEvent = "user.login";
inline constexpr std::string_view kWebLoginAuditEvent = "user.web_login";

struct AuthenticatorOptions {
  SecondFactor second_factor = SecondFactor::kOtp;
  int lockout_attempts = 5;
  std::chrono::seconds lockout_duration{300};
};

class Authenticator {
 public:
  Authenticator(AuthenticatorOptions options, Store& store, AuditLog& audit)
      : options_(options),
        store_(store),
        audit_(audit),
        throttle_({options.lockout_attempts, options.lockout_duration}, store) {}

  // On success returns the user's record and clears source's failures.
  // Failures (each audited with `source`, never with the secret):
  //   Unauthenticated     kBadLogin, alike for an unknown user, one not
  //                       signed up, a wrong password, and a missing, wrong
  //                       or reused OTP code (the audit row says which)
  //   ResourceExhausted   throttled (LoginThrottle), for known and unknown
  //                       names alike; nothing was checked
  //   FailedPrecondition  OTP required but no OTP device enrolled; or, with
  //                       second_factor optional, the user has no OTP app
  //                       but a security key (which this path cannot take)
  // Which users give an OTP code: with otp and on, every user (on: a user
  // whose only devices are security keys cannot log in here); with
  // optional, users who have an OTP app (the rest give the password alone
  // if they have no device at all); with off, none.
  // Every Unauthenticated outcome counts as a failure of source against
  // the name.
  // code_time: the time the OTP code is judged at, which should be when the
  // request arrived (HttpRequest::arrived_at), so time the request spent
  // queued in gate-ca never turns a valid code into a failure; unset: now.
  // event: the audit event failures are recorded as (the CLI's
  // kLoginAuditEvent or the browser's kWebLoginAuditEvent); throttling,
  // failure counts and OTP steps are shared by both.
  Result<UserRecord> Authenticate(const std::string& user, const SecretString& password,
                                  const SecretString& otp_code, const std::string& source,
                                  std::int64_t now,
                                  std::optional<std::int64_t> code_time = std::nullopt,
                                  std::string_view event = kLoginAuditEvent);

  // The second factor alone: checks otp_code against user's enrolled TOTP
  // device, whatever the cluster's second_factor setting (the caller asked
  // for an OTP). On success consumes the code's step and resets the failure
  // count. Every outcome is audited as "user.otp" with `source` (the node's
  // host UUID), never with the code; the throttle counts it as the source
  // "node <source>". Failures:
  //   Unauthenticated     kBadOtpCode for a wrong or malformed code and, alike,
  //                       for an unknown user, one not signed up, or one with
  //                       no OTP device (no user probing); "OTP code already
  //                       used; ..." for a replayed code. Each counts as a
  //                       failure of this node against the name.
  //   ResourceExhausted   throttled (this node failed too often against the
  //                       name, or the name is throttled and this node has
  //                       failed against it); nothing was checked
  //   PermissionDenied    an admin lock is in force ("user X is locked: ..."),
  //                       told only after the code was proven, as at login
  //   other               store failures, as they are
  // code_time: as for Authenticate.
  Status VerifySecondFactor(const std::string& user, const SecretString& otp_code,
                            const std::string& source, std::int64_t now,
                            std::optional<std::int64_t> code_time = std::nullopt);

  // For the admin API's user status: whether the name is throttled now.
  Result<bool> Throttled(const std::string& user, std::int64_t now) {
    return throttle_.Throttled(user, now);
  }
  LoginThrottle& throttle() { return throttle_; }

 private:
  // Whether this login must carry an OTP code (see Authenticate).
  bool NeedsOtpCode(const UserRecord& user) const;
  // FailedPrecondition (audited) when second_factor is optional and the
  // user, without an OTP app, has another device.
  Status CheckDevicesForPasswordLogin(const UserRecord& user, const std::string& event,
                                      const std::string& source, std::int64_t now);
  // ResourceExhausted (audited as `event`) while source is throttled for
  // user.
  Status CheckThrottle(const std::string& user, const std::string& event, const std::string& source,
                       const std::string& throttle_source, std::int64_t now);
  // The OTP check both paths share: verify against the user's secret at
  // code_time, then consume the step. Wrong and reused codes go through Fail.
  Status CheckOtpCode(const UserRecord& user, const SecretString& otp_code,
                      const std::string& event, const std::string& source,
                      const std::string& throttle_source, std::int64_t now, std::int64_t code_time);
  // Counts a failure of throttle_source against user, audits it as `event`
  // with source, returns status.
  Status Fail(const std::string& user, const std::string& event, const std::string& source,
              const std::string& throttle_source, std::int64_t now, const std::string& reason,
              Status status);

  AuthenticatorOptions options_;
  Store& store_;
  AuditLog& audit_;
  LoginThrottle throttle_;
};

// "4m10s" style remaining time for lockout messages.
std::string RemainingLockout(std::int64_t locked_until, std::int64_t now);

}  // namespace gate::ca

#endif  // GATE_CA_AUTH_AUTHENTICATOR_H_
