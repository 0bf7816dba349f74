// Central OTP (source=central): the code the user types is checked by gate-ca
// (POST /v1/nodes/otp/verify with the node's credentials), so TOTP secrets
// never leave gate-ca and a code is single-use across `gate login` and every
// node. The module does not speak HTTPS itself: it hands the code to
// `gate-node otp-relay` over its Unix socket (options.relay) and maps the
// relay's verdict (gate/otp_relay.h says why). MakeCentralOtp() (factor.h)
// is the factor; the pieces below are what it is made of, exposed for tests.
//
// Outcomes: kSuccess only for "accepted" naming the same user; kFailure for
// "refused" (a wrong or reused code, an unknown user, an admin lock);
// kLockedOut for "locked-out"; kUnavailable when gate-ca could not answer
// ("unavailable") or the relay cannot be reached, which options.offline
// decides in pam_gate.cc; kError for everything else (the relay's "error",
// such as unreadable node credentials, and malformed replies).
// The code is never logged.
#ifndef GATE_PAM_OTP_CENTRAL_H_
#define GATE_PAM_OTP_CENTRAL_H_

#include <chrono>
#include <string>
#include <string_view>

#include "gate/otp_relay.h"
#include "gate/secret.h"
#include "gate/status.h"
#include "pam_module/factor.h"

namespace gate::pam {

inline constexpr char kOtpPrompt[] = "Enter your OTP token: ";
// How much longer than timeout= the module waits for the relay, whose own
// "unavailable: timed out" should arrive first.
inline constexpr std::chrono::milliseconds kRelayGrace{500};

// Ok when path is a socket; otherwise Unavailable saying the relay is not
// running and how to start it.
Status CheckRelaySocket(const std::string& path);

// One request to the relay at path: connect, send, read the reply, all
// within timeout + kRelayGrace. Unavailable for anything that kept the
// relay's answer from arriving; InvalidArgument for a malformed one.
Result<OtpRelayReply> AskRelay(const std::string& path, std::string_view gate_user,
                               const SecretString& code, std::chrono::milliseconds timeout);

// Maps the relay's answer for gate_user to an Outcome (see above; table-tested).
Outcome CentralOutcome(const Result<OtpRelayReply>& reply, std::string_view gate_user);

}  // namespace gate::pam

#endif  // GATE_PAM_OTP_CENTRAL_H_
