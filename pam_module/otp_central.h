// Central OTP (source=central): the code the user types is checked by gate-ca
// through POST /v1/nodes/otp/verify (docs/node-protocol.md) with this node's
// credentials, so TOTP secrets never leave gate-ca and a code is single-use
// across `gate login` and every node. MakeCentralOtp() (factor.h) is the
// factor; the pieces below are what it is made of, exposed for tests.
//
// Outcomes: kSuccess only for gate-ca's 200 {"ok": true} naming the same
// user; kFailure for a wrong or reused code (401); kLockedOut when gate-ca
// refuses to check (429: the user's lockout or the node's rate limit);
// kUnavailable when gate-ca cannot be reached or fails (5xx), which
// options.offline decides in pam_gate.cc; kError for everything else (an
// unreadable or unsafe node.json, a malformed reply, an unexpected status).
// The code is never logged.
#ifndef GATE_PAM_OTP_CENTRAL_H_
#define GATE_PAM_OTP_CENTRAL_H_

#include <chrono>
#include <string>
#include <string_view>

#include "gate/http_client.h"
#include "gate/node_state.h"
#include "gate/secret.h"
#include "gate/status.h"
#include "pam_module/factor.h"

namespace gate::pam {

inline constexpr char kOtpVerifyPath[] = "/v1/nodes/otp/verify";
inline constexpr char kOtpPrompt[] = "Enter your OTP token: ";

// node_dir/node.json as gate-node join wrote it (root, 0600; ReadNodeState's
// checks). Errors pass through; every one of them is kError for the factor.
Result<NodeState> ReadNodeCredentials(const std::string& node_dir);

// The client gate-node itself would use (NodeClientOptions: proxy, ca_pin or
// insecure, bearer token) with the whole request bounded by timeout.
HttpClientOptions CentralClientOptions(const NodeState& node, std::chrono::milliseconds timeout);

// Maps gate-ca's answer for gate_user to an Outcome (see above; table-tested).
Outcome CentralOutcome(const Result<HttpResponse>& reply, std::string_view gate_user);

// Asks gate-ca whether code is right for gate_user: one POST, mapped with
// CentralOutcome. Logs the outcome (user and reason, never the code).
Outcome VerifyCentral(const HttpClient& client, const std::string& gate_user,
                      const SecretString& code);

}  // namespace gate::pam

#endif  // GATE_PAM_OTP_CENTRAL_H_
