#include "cli/common/terminal_text.h"

#include <time.h>

#include <ctime>

#include "gate/duration.h"

namespace gate::cli {

std::string Printable(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return out;
}

std::string UtcTime(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

Result<std::int64_t> ParseSince(std::string_view flag, const std::string& text, std::int64_t now) {
  if (auto d = ParseDuration(text); d) return now - d->count();
  if (!text.empty() && text.size() <= 12 &&
      text.find_first_not_of("0123456789") == std::string::npos) {
    return std::stoll(text);
  }
  for (const char* format : {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"}) {
    std::tm tm{};
    const char* end = strptime(text.c_str(), format, &tm);
    if (end != nullptr && *end == '\0') return static_cast<std::int64_t>(timegm(&tm));
  }
  return Err(InvalidArgument(std::string(flag) + ": '" + Printable(text) +
                             "' is not a duration (2h), unix seconds, or a UTC date or time "
                             "(2026-11-25, 2026-11-25T14:00:00)"));
}

}  // namespace gate::cli
