#include "event_line.h"

#include <charconv>
#include <cmath>
#include <string>

#include "json_string.h"

namespace gate::cast::internal {
namespace {

void SkipSpace(std::string_view s, std::size_t* pos) {
  while (*pos < s.size() && (s[*pos] == ' ' || s[*pos] == '\t')) ++(*pos);
}

bool Expect(std::string_view s, std::size_t* pos, char c) {
  SkipSpace(s, pos);
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++(*pos);
  SkipSpace(s, pos);
  return true;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The JSON number grammar (RFC 8259), without the minus sign: from_chars
// alone would also take "01", ".5", "inf" and hex floats.
std::size_t JsonNumberLength(std::string_view s, std::size_t pos) {
  std::size_t i = pos;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (i < s.size() && IsDigit(s[i])) {
    while (i < s.size() && IsDigit(s[i])) ++i;
  } else {
    return 0;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i >= s.size() || !IsDigit(s[i])) return 0;
    while (i < s.size() && IsDigit(s[i])) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= s.size() || !IsDigit(s[i])) return 0;
    while (i < s.size() && IsDigit(s[i])) ++i;
  }
  return i - pos;
}

}  // namespace

Status ParseEventLine(std::string_view line, Event* event, std::size_t* data_offset) {
  std::size_t pos = 0;
  if (!Expect(line, &pos, '[')) return InvalidArgument("an event must be a JSON array");
  const std::size_t len = JsonNumberLength(line, pos);
  if (len == 0) return InvalidArgument("the event time must be a number >= 0");
  double t = 0;
  const auto [end, ec] = std::from_chars(line.data() + pos, line.data() + pos + len, t);
  if (ec != std::errc() || end != line.data() + pos + len || !std::isfinite(t)) {
    return InvalidArgument("the event time is out of range");
  }
  pos += len;
  if (!Expect(line, &pos, ',')) return InvalidArgument("expected ',' after the event time");
  std::string type;
  if (Status s = DecodeString(line, &pos, &type); !s.ok()) {
    return s.WithContext("event type");
  }
  if (type.size() != 1 || type[0] <= ' ' || type[0] > '~') {
    return InvalidArgument("the event type must be one character");
  }
  if (!Expect(line, &pos, ',')) return InvalidArgument("expected ',' after the event type");
  const std::size_t body = pos + 1;
  if (Status s = DecodeString(line, &pos, &event->data); !s.ok()) {
    return s.WithContext("event data");
  }
  if (!Expect(line, &pos, ']') || pos != line.size()) {
    return InvalidArgument("an event must be [time, type, data] and nothing else");
  }
  event->time = t;
  event->type = type[0];
  if (data_offset != nullptr) *data_offset = body;
  return Status::Ok();
}

}  // namespace gate::cast::internal
