// Authenticator: password + second factor for a login, with lockout; and the
// second factor alone, for pam_gate.so on a node (POST /v1/nodes/otp/verify).
//
// The one place that decides "is this really user X". Unknown users and wrong
// passwords fail with the same message and about the same cost (a dummy
// argon2 verification), so a caller cannot probe for user names. Both paths
// share one OTP state per user: the failure count and lockout, and the last
// accepted TOTP step (Store::ConsumeTotpStep), so a code accepted by one is
// refused by the other and failures on either count towards one lockout.
#ifndef GATE_CA_AUTH_AUTHENTICATOR_H_
#define GATE_CA_AUTH_AUTHENTICATOR_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "ca-server/audit/audit.h"
#include "ca-server/store/store.h"
#include "gate/config.h"
#include "gate/secret.h"
#include "gate/status.h"

namespace gate::ca {

inline constexpr std::string_view kBadCredentials = "invalid user name or password";
inline constexpr std::string_view kBadOtpCode = "invalid OTP code";

struct AuthenticatorOptions {
  SecondFactor second_factor = SecondFactor::kOtp;
  int lockout_attempts = 5;
  std::chrono::seconds lockout_duration{300};
};

class Authenticator {
 public:
  Authenticator(AuthenticatorOptions options, Store& store, AuditLog& audit)
      : options_(options), store_(store), audit_(audit) {}

  // On success returns the user's record and resets the failure count.
  // Failures (each audited with `source`, never with the secret):
  //   Unauthenticated     unknown user, not signed up, wrong password (all
  //                       kBadCredentials); missing, wrong or reused OTP code
  //   ResourceExhausted   locked out after too many consecutive failures
  //   FailedPrecondition  OTP required but no device enrolled
  // Wrong passwords and OTP codes count towards the lockout.
  // code_time: the time the OTP code is judged at, which should be when the
  // request arrived (HttpRequest::arrived_at), so time the request spent
  // queued in gate-ca never turns a valid code into a failure; unset: now.
  Result<UserRecord> Authenticate(const std::string& user, const SecretString& password,
                                  const SecretString& otp_code, const std::string& source,
                                  std::int64_t now,
                                  std::optional<std::int64_t> code_time = std::nullopt);

  // The second factor alone: checks otp_code against user's enrolled TOTP
  // device, whatever the cluster's second_factor setting (the caller asked
  // for an OTP). On success consumes the code's step and resets the failure
  // count. Every outcome is audited as "user.otp" with `source` (the node's
  // host UUID), never with the code. Failures:
  //   Unauthenticated     kBadOtpCode for a wrong or malformed code and, alike,
  //                       for an unknown user, one not signed up, or one with
  //                       no OTP device (no user probing); "OTP code already
  //                       used; ..." for a replayed code. Wrong codes count
  //                       towards the lockout.
  //   ResourceExhausted   locked out (by failures here or at login); nothing
  //                       was checked
  //   PermissionDenied    an admin lock is in force ("user X is locked: ..."),
  //                       told only after the code was proven, as at login
  //   other               store failures, as they are
  // code_time: as for Authenticate.
  Status VerifySecondFactor(const std::string& user, const SecretString& otp_code,
                            const std::string& source, std::int64_t now,
                            std::optional<std::int64_t> code_time = std::nullopt);

 private:
  // ResourceExhausted (audited as `event`) while user is locked out.
  Status CheckNotLockedOut(const UserRecord& user, const std::string& event,
                           const std::string& source, std::int64_t now);
  // The OTP check both paths share: verify against the user's secret at
  // code_time, then consume the step. Wrong and reused codes go through Fail.
  Status CheckOtpCode(const UserRecord& user, const SecretString& otp_code,
                      const std::string& event, const std::string& source, std::int64_t now,
                      std::int64_t code_time);
  // Counts a failure towards the lockout, audits it as `event`, returns status.
  Status Fail(const UserRecord& user, const std::string& event, const std::string& source,
              std::int64_t now, const std::string& reason, Status status);

  AuthenticatorOptions options_;
  Store& store_;
  AuditLog& audit_;
};

// "4m10s" style remaining time for lockout messages.
std::string RemainingLockout(std::int64_t locked_until, std::int64_t now);

}  // namespace gate::ca

#endif  // GATE_CA_AUTH_AUTHENTICATOR_H_
