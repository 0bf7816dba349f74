// The one-time signup token, as the user pastes it: the URL an admin shared
// (https://HOST/web/newuser/TOKEN) or the bare token. It is read from a
// prompt or standard input, never from argv, where every local user could
// read it (/proc/PID/cmdline) and finish the signup first.
#ifndef GATE_CLI_COMMON_SIGNUP_TOKEN_H_
#define GATE_CLI_COMMON_SIGNUP_TOKEN_H_

#include <string_view>

#include "gate/secret.h"
#include "gate/status.h"

namespace gate::cli {

// The token in text (surrounding blanks ignored; upper-case hex folded to
// lower case): 32 hex characters alone, or after "/web/newuser/" in a URL
// (a trailing '/', query or fragment is ignored). InvalidArgument otherwise;
// the message never repeats the input.
Result<SecretString> ParseSignupToken(std::string_view text);

}  // namespace gate::cli

#endif  // GATE_CLI_COMMON_SIGNUP_TOKEN_H_
