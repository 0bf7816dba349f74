#include "gate/duration.h"

#include <cstdint>
#include <string>

namespace gate {
namespace {

// Ten years: no gate lifetime (certificate, token, lockout) is meant to come
// close, so anything longer is a typo, and the cap keeps every intermediate
// sum far from overflowing int64.
constexpr std::int64_t kMaxSeconds = std::int64_t{10} * 365 * 24 * 3600;

Status Invalid(std::string_view text) {
  return InvalidArgument("invalid duration '" + std::string(text) + "' (use e.g. 12h, 30m)");
}

}  // namespace

Result<std::chrono::seconds> ParseDuration(std::string_view text) {
  if (text.empty()) return Err(Invalid(text));
  std::int64_t total = 0;
  bool seen_h = false, seen_m = false, seen_s = false;
  std::size_t i = 0;
  while (i < text.size()) {
    std::int64_t value = 0;
    std::size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      value = value * 10 + (text[i] - '0');
      // Saturate rather than overflow; the total check below rejects it.
      if (value > kMaxSeconds) value = kMaxSeconds + 1;
      ++i;
      ++digits;
    }
    if (digits == 0 || i == text.size()) return Err(Invalid(text));
    std::int64_t unit = 0;
    bool* seen = nullptr;
    switch (text[i]) {
      case 'h':
        unit = 3600;
        seen = &seen_h;
        break;
      case 'm':
        unit = 60;
        seen = &seen_m;
        break;
      case 's':
        unit = 1;
        seen = &seen_s;
        break;
      default:
        return Err(Invalid(text));
    }
    ++i;
    if (*seen) return Err(Invalid(text));
    *seen = true;
    // value <= kMaxSeconds + 1 and total <= kMaxSeconds, so no overflow.
    total += value * unit;
    if (total > kMaxSeconds) {
      return Err(InvalidArgument("duration '" + std::string(text) + "' is longer than 10 years"));
    }
  }
  if (total == 0) {
    return Err(InvalidArgument("duration '" + std::string(text) + "' must be greater than zero"));
  }
  return std::chrono::seconds(total);
}

std::string FormatDuration(std::chrono::seconds d) {
  std::int64_t total = d.count();
  std::string out;
  std::uint64_t magnitude = static_cast<std::uint64_t>(total);
  if (total < 0) {
    out = "-";
    magnitude = ~magnitude + 1;  // well-defined even for INT64_MIN
  }
  const std::uint64_t h = magnitude / 3600;
  const std::uint64_t m = (magnitude % 3600) / 60;
  const std::uint64_t s = magnitude % 60;
  if (h > 0) out += std::to_string(h) + "h";
  if (h > 0 || m > 0) out += std::to_string(m) + "m";
  out += std::to_string(s) + "s";
  return out;
}

}  // namespace gate
