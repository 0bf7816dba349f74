// Text gate and gatectl show in a terminal or read from one: strings that
// came from a server or a recording, times, and --since arguments.
#ifndef GATE_CLI_COMMON_TERMINAL_TEXT_H_
#define GATE_CLI_COMMON_TERMINAL_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "gate/status.h"

namespace gate::cli {

// s with every control byte (C0 and DEL) replaced by '?': what a server or a
// recorded command sends must not drive the viewer's terminal.
std::string Printable(std::string_view s);

// "2026-11-25 14:00:00" (UTC) for Unix seconds t.
std::string UtcTime(std::int64_t t);

// A --since argument as Unix seconds: a duration back from now ("2h",
// "30m"), Unix seconds, or a UTC date ("2026-11-25") or time
// ("2026-11-25T14:00:00"). InvalidArgument naming flag otherwise.
Result<std::int64_t> ParseSince(std::string_view flag, const std::string& text, std::int64_t now);

}  // namespace gate::cli

#endif  // GATE_CLI_COMMON_TERMINAL_TEXT_H_
