// Durations as people write them in gate.yaml and on the command line:
// Go-style "12h", "30m", "90s", "1h30m", "2h0m0s"; units h, m, s only.
#ifndef GATE_DURATION_H_
#define GATE_DURATION_H_

#include <chrono>
#include <string>
#include <string_view>

#include "gate/status.h"

namespace gate {

// InvalidArgument for an empty string, a missing or unknown unit, a negative
// or zero total, repeated units, or a value above 10 years.
Result<std::chrono::seconds> ParseDuration(std::string_view text);

// "12h0m0s", "30m0s", "45s" (the style tsh prints "valid for" in).
std::string FormatDuration(std::chrono::seconds d);

}  // namespace gate

#endif  // GATE_DURATION_H_
