// Asking the person at the keyboard. With a terminal, prompts go to the
// terminal and secrets are read with echo off; without one (scripts, tests),
// answers are read from standard input, one line each, in the order asked.
#ifndef GATE_PROMPT_H_
#define GATE_PROMPT_H_

#include <string>
#include <string_view>

#include "gate/secret.h"
#include "gate/status.h"

namespace gate::cli {

// Reads one line (without the newline). Unavailable at end of input,
// InvalidArgument for a line over 4 KiB.
Result<std::string> ReadLine(std::string_view prompt);
Result<SecretString> ReadSecret(std::string_view prompt);

// True if standard input is a terminal.
bool Interactive();

}  // namespace gate::cli

#endif  // GATE_PROMPT_H_
