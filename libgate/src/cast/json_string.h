// JSON string bodies for recordings: escaping raw terminal bytes (the
// writer's hot path) and decoding them back (the reader). Both sides agree on
// UTF-8: the escaper turns each maximal invalid subsequence into U+FFFD (the
// Unicode "best practice", as Python's decoder and so asciinema's own writer
// do), the decoder refuses invalid UTF-8 outright.
#ifndef GATE_LIBGATE_SRC_CAST_JSON_STRING_H_
#define GATE_LIBGATE_SRC_CAST_JSON_STRING_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "gate/status.h"

namespace gate::cast::internal {

// The most output one input byte can need: a control character as \u00XX.
// An invalid byte becomes U+FFFD, 3 bytes.
inline constexpr std::size_t kMaxEscapedPerByte = 6;
// Extra room EscapeInto needs past that: it stores 8 bytes at a time.
inline constexpr std::size_t kEscapeSlack = 8;
inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// What the UTF-8 sequence starting at p[0] (a byte >= 0x80) is:
//   length > 0, valid:  a well-formed character of `length` bytes;
//   length > 0, !valid: a maximal invalid subsequence, one U+FFFD;
//   length == 0:        all `avail` bytes are a valid but unfinished prefix.
struct Utf8Step {
  std::size_t length = 0;
  bool valid = false;
};
Utf8Step DecodeUtf8Step(const unsigned char* p, std::size_t avail);

// Writes the JSON string body (no quotes) for `in` to dst, which must have
// room for kMaxEscapedPerByte * in.size() + kEscapeSlack bytes. '"' and '\\' are escaped,
// \b \t \n \f \r get their short forms and every other byte below 0x20 is
// written as \u00XX; DEL and valid UTF-8 pass through. With final false, an
// unfinished sequence at the very end is left unconsumed (at most 3 bytes);
// with final true it becomes U+FFFD. Returns the bytes written and sets
// *consumed to the input bytes used.
std::size_t EscapeInto(std::string_view in, bool final, char* dst, std::size_t* consumed);

// Decodes the JSON string whose opening quote is text[*pos] into *out and
// moves *pos past the closing quote. InvalidArgument (without position; the
// caller names the line) for raw control characters, invalid UTF-8, unknown
// escapes, lone surrogates or a missing closing quote.
Status DecodeString(std::string_view text, std::size_t* pos, std::string* out);

// Writes t (seconds, clamped to [0, 1e12]) as "%.6f" would, to dst (room for
// 24 bytes). Returns the bytes written.
std::size_t FormatTime(double t, char* dst);

}  // namespace gate::cast::internal

#endif  // GATE_LIBGATE_SRC_CAST_JSON_STRING_H_
