// Local TOTP (source=local): RFC 6238 codes checked against the authfile's
// secrets with liboath, for hosts that are not joined to gate-ca.
//
// The replay and lockout state lives in gate/otp_state.h (shared with
// `gate mfa add --local`, whose confirmation consumes its step there): per
// gate user, the highest accepted time step and the run of failures, under a
// per-user flock around every read-verify-write, so two logins racing with
// the same code (threads or processes) cannot both be accepted. A code for a
// step at or below the last accepted one is refused (replay). max_tries
// wrong codes in a row lock the user out for `lockout`. State that does not
// parse is an error (fail closed), never a fresh start.
#ifndef GATE_PAM_OTP_LOCAL_H_
#define GATE_PAM_OTP_LOCAL_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "gate/authfile.h"
#include "gate/otp_state.h"
#include "gate/status.h"
#include "pam_module/factor.h"

namespace gate::pam {

using OtpState = otp::State;
using otp::FormatState;
using otp::ParseState;

class LocalOtp final : public Factor {
 public:
  using Clock = std::function<std::int64_t()>;  // unix seconds

  explicit LocalOtp(Clock clock);

  // Reads the authfile (options.authfile, %u/%h expanded for pam_user),
  // checks the lockout, prompts "Enter your OTP token: ", then Verify.
  Outcome Authenticate(FactorContext& context) override;

  // The code check alone, under the user's lock: kSuccess (step persisted
  // before returning), kFailure (wrong, reused or malformed code; counted),
  // kLockedOut (nothing checked), kError (state unreadable, corrupt or not
  // writable: an accepted code that cannot be recorded is refused).
  // entries: the user's TOTP entries (any may match). Thread-safe.
  Outcome Verify(const Options& options, const std::string& gate_user,
                 const std::vector<authfile::Entry>& entries, std::string_view code,
                 std::string* why = nullptr);

  // Whether gate_user is locked out now (kLockedOut), fine (kSuccess) or the
  // state cannot be read (kError).
  Outcome CheckLockout(const Options& options, const std::string& gate_user);

 private:
  Clock clock_;
};

}  // namespace gate::pam

#endif  // GATE_PAM_OTP_LOCAL_H_
