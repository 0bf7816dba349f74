// Authenticator: password + second factor for a login, with lockout.
//
// The one place that decides "is this really user X". Unknown users and wrong
// passwords fail with the same message and about the same cost (a dummy
// argon2 verification), so a caller cannot probe for user names.
#ifndef GATE_CA_AUTH_AUTHENTICATOR_H_
#define GATE_CA_AUTH_AUTHENTICATOR_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "ca-server/audit/audit.h"
#include "ca-server/store/store.h"
#include "gate/config.h"
#include "gate/secret.h"
#include "gate/status.h"

namespace gate::ca {

inline constexpr std::string_view kBadCredentials = "invalid user name or password";

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
  Result<UserRecord> Authenticate(const std::string& user, const SecretString& password,
                                  const SecretString& otp_code, const std::string& source,
                                  std::int64_t now);

 private:
  Status Fail(const UserRecord& user, const std::string& source, std::int64_t now,
              const std::string& reason, Status status);

  AuthenticatorOptions options_;
  Store& store_;
  AuditLog& audit_;
};

// "4m10s" style remaining time for lockout messages.
std::string RemainingLockout(std::int64_t locked_until, std::int64_t now);

}  // namespace gate::ca

#endif  // GATE_CA_AUTH_AUTHENTICATOR_H_
