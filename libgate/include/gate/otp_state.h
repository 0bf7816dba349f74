// Local TOTP state: per gate user, the highest time step accepted and the
// run of wrong codes, shared by pam_gate.so (source=local) and
// `gate mfa add --local`, whose confirmation code consumes its step here so
// pam_gate never accepts that code again.
//
// Files, in state_dir (owned by this euid, mode 0700, created if missing):
// <user>.state holds "v1 LAST_STEP FAILURES LOCKED_UNTIL\n" (mode 0600,
// rewritten in place as one fixed-size record, padded with spaces before the
// newline, and fdatasync'ed); <user>.lock is flock'ed around every
// read-modify-write. State that does not parse, or has a bad owner or mode,
// is an error (fail closed), never a fresh start.
#ifndef GATE_OTP_STATE_H_
#define GATE_OTP_STATE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "gate/status.h"
#include "gate/unique_fd.h"

namespace gate::otp {

// pam_gate's state_dir= default, and `gate mfa add --state-dir`'s.
inline constexpr std::string_view kDefaultStateDir = "/var/lib/gate/pam";

struct State {
  std::int64_t last_step = -1;    // highest accepted TOTP step; -1: none yet
  int failures = 0;               // consecutive wrong codes
  std::int64_t locked_until = 0;  // unix seconds; 0: not locked
  bool operator==(const State&) const = default;
};

std::string FormatState(const State& state);
// DataLoss on anything FormatState would not have written (spaces before the
// final newline, SaveState's padding, are accepted).
Result<State> ParseState(std::string_view text);

// An exclusive flock on <state_dir>/<user>.lock, held while alive (move-only).
// Acquire creates state_dir (0700) if missing and fails with PermissionDenied
// or Unavailable (message says which path) when it or the lock file is not
// this euid's. Blocks until the lock is free.
class StateLock {
 public:
  static Result<StateLock> Acquire(const std::string& state_dir, const std::string& user);

 private:
  explicit StateLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // closing it releases the lock
};

// The caller holds the user's StateLock. A missing file is a fresh State.
Result<State> LoadState(const std::string& state_dir, const std::string& user);
// The caller holds the user's StateLock. Ok only once the record is on disk
// (and, for a new file, its name too), so a crash cannot re-open a used step.
Status SaveState(const std::string& state_dir, const std::string& user, const State& state);

// Marks every step up to `step` as used for user (last_step only grows;
// failures and lockout are kept), under the user's lock. Errors as above.
Status ConsumeStep(const std::string& state_dir, const std::string& user, std::int64_t step);

}  // namespace gate::otp

#endif  // GATE_OTP_STATE_H_
