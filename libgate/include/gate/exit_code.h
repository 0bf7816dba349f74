// How gate, gatectl and gate-node report failure to the shell: one mapping
// from Status codes to exit codes, documented in each tool's --help.
#ifndef GATE_EXIT_CODE_H_
#define GATE_EXIT_CODE_H_

#include <string_view>

#include "gate/status.h"

namespace gate::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;      // anything not listed below
inline constexpr int kExitUsage = 2;        // bad flags or arguments
inline constexpr int kExitAuth = 3;         // authentication or permission refused
inline constexpr int kExitUnavailable = 4;  // the server cannot be reached
inline constexpr int kExitNotFound = 5;     // no such user, token or profile

int ToExitCode(Code code);

// Text for --help footers.
inline constexpr std::string_view kExitCodeHelp =
    "Exit status: 0 success, 1 failure, 2 usage error, 3 authentication or\n"
    "permission refused, 4 server unreachable, 5 not found.";

// Prints "<tool>: <message>" to stderr and returns ToExitCode(status.code()).
int Fail(std::string_view tool, const Status& status);

}  // namespace gate::cli

#endif  // GATE_EXIT_CODE_H_
