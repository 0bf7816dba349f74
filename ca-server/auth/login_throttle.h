// LoginThrottle: how many password and OTP guesses a source may make
// against one user name, per source AND per user, so that guessing is slow
// while no one can lock a user out.
//
// The rules, with N = lockout_attempts and D = lockout_duration (gate.yaml):
//  - Per source: N failures from one source against one name within D
//    block that source for that name for D.
//  - Per user: N failures against one name within D, from any sources,
//    throttle the name for the rest of that window: a source that has failed
//    against it (in its own window) is refused until then, while a clean
//    source (no recent failure against the name) is still let through.
// So a user with the right password and code gets in from a clean source
// even while an attack spread over many addresses goes on (or, from a
// source that failed, once the window ends), and each attacking source
// gets one guess per window once the user is throttled.
//
// A source is a peer address for logins and "node <host UUID>" for a
// node's central OTP checks, so one node's failures block that node, not
// the user's logins. Names are counted as typed, whether or not the user
// exists, so the answers cannot tell known names from unknown ones.
//
// State lives in the store (UserStore's login failure counters); each
// update is one Store::InTransaction, so concurrent failures are never lost
// and several gate-ca sharing one database agree. Thread-safe.
#ifndef GATE_CA_AUTH_LOGIN_THROTTLE_H_
#define GATE_CA_AUTH_LOGIN_THROTTLE_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "ca-server/store/store.h"
#include "gate/status.h"

namespace gate::ca {

struct ThrottleOptions {
  int attempts = 5;                    // N, at least 1
  std::chrono::seconds duration{300};  // D, at least 1s
};

class LoginThrottle {
 public:
  LoginThrottle(ThrottleOptions options, Store& store) : options_(options), store_(store) {}

  // OK if source may try user's credentials at now; ResourceExhausted
  // ("too many failed login attempts; try again in 4m10s") if the rules
  // above refuse it. Store errors as they are.
  Status Check(const std::string& user, const std::string& source, std::int64_t now);

  // Counts a failed guess from source against user. Returns true if this
  // failure blocked the source.
  Result<bool> RecordFailure(const std::string& user, const std::string& source, std::int64_t now);

  // Forgets source's failures against user (its own window only: the
  // user's total still counts, so an attacker cannot reset it by logging in
  // to an account of their own under another name).
  Status RecordSuccess(const std::string& user, const std::string& source);

  // Whether the name is throttled at now (N failures within D).
  Result<bool> Throttled(const std::string& user, std::int64_t now);

  // Failures counted in the current window of (user, source); source
  // kEverySource gives the name's total.
  Result<int> RecentFailures(const std::string& user, const std::string& source, std::int64_t now);

 private:
  // f as of now: a window that has ended counts nothing.
  LoginFailures Current(LoginFailures f, std::int64_t now) const;

  ThrottleOptions options_;
  Store& store_;
};

}  // namespace gate::ca

#endif  // GATE_CA_AUTH_LOGIN_THROTTLE_H_
