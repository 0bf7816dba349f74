// The options on a pam_gate.so line in /etc/pam.d/*, parsed once per call.
// Every option is documented in pam_gate.8; an unknown or malformed option
// makes the whole line fail closed (PAM_AUTH_ERR, with a log line naming it).
#ifndef GATE_PAM_OPTIONS_H_
#define GATE_PAM_OPTIONS_H_

#include <chrono>
#include <string>
#include <vector>

#include "gate/otp_relay.h"
#include "gate/otp_state.h"
#include "gate/status.h"

namespace gate::pam {

enum class SecondFactor { kOtp, kU2f, kOff };
enum class Source { kCentral, kLocal };
enum class Offline { kDeny, kLocal };

struct Options {
  SecondFactor second_factor = SecondFactor::kOtp;
  Source source = Source::kCentral;
  // Local OTP secrets and U2F credentials (formats: pam_gate.8).
  std::string authfile = "/etc/gate/pam_gate.authfile";
  // Where accepted TOTP steps and failure counts persist (local source).
  std::string state_dir = std::string(otp::kDefaultStateDir);
  int window = 1;       // TOTP steps of clock skew accepted either way (0..3)
  bool nullok = false;  // users with no enrolled factor pass (PAM_IGNORE)
  int max_tries = 3;    // wrong codes in a row before a lockout
  std::chrono::seconds lockout{300};
  std::chrono::milliseconds timeout{2000};  // central: gate-ca's answer to the relay
  Offline offline = Offline::kDeny;
  std::string relay = kDefaultOtpRelaySocket;  // central: gate-node otp-relay's socket
  std::string appid;                           // FIDO: RP id / U2F app id (u2f.app_id)
  std::string origin;                          // FIDO: origin (default "pam://" + appid)
  bool cue = false;                            // FIDO: prompt "Touch your security key"
  bool user_verification = false;              // FIDO: require UV (PIN/biometric)
  bool debug = false;
};

// argv as Linux-PAM passes it. InvalidArgument naming the first bad option.
Result<Options> ParseOptions(const std::vector<std::string>& args);

}  // namespace gate::pam

#endif  // GATE_PAM_OPTIONS_H_
