#include "json_string.h"

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace gate::cast::internal {
namespace {

// Bytes that go into a JSON string as they are: printable ASCII except '"'
// and '\\', plus DEL (JSON allows it raw, and Python's json.dumps leaves it).
constexpr std::array<bool, 256> MakeSafeTable() {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[c] = c != '"' && c != '\\';
  return t;
}
constexpr std::array<bool, 256> kSafe = MakeSafeTable();

constexpr char kHexDigits[] = "0123456789abcdef";

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
constexpr std::uint64_t kLow7 = 0x7F7F7F7F7F7F7F7FULL;

// The high bit of each byte of v that is zero. Exact per byte (no borrow
// runs into the next byte), so the lowest set bit marks the first match.
constexpr std::uint64_t ZeroBytes(std::uint64_t v) { return ~(((v & kLow7) + kLow7) | v) & kHigh; }

// The high bit of each byte of w that is not kSafe: >= 0x80, < 0x20, '"' or
// '\\'. Checking 8 bytes at a time is what makes runs of plain text cost
// about a memcpy.
constexpr std::uint64_t UnsafeBytes(std::uint64_t w) {
  const std::uint64_t below_space = ~((w & kLow7) + kOnes * (0x80 - 0x20)) & kHigh;
  return (w & kHigh) | below_space | ZeroBytes(w ^ (kOnes * '"')) | ZeroBytes(w ^ (kOnes * '\\'));
}

static_assert(UnsafeBytes(0x2020202020202020ULL) == 0);
static_assert(UnsafeBytes(0x7E7E7E7E7E7E7E7EULL) == 0);
static_assert(UnsafeBytes(0x2020202020202022ULL) == 0x80);
static_assert(UnsafeBytes(0x202020202020205CULL) == 0x80);
static_assert(UnsafeBytes(0x202020202020201FULL) == 0x80);
static_assert(UnsafeBytes(0x2020202020202080ULL) == 0x80);
static_assert(UnsafeBytes(0x1F20202020202020ULL) == 0x8000000000000000ULL);
static_assert(UnsafeBytes(0x0000000000000000ULL) == kHigh);

// The escaped form of each ASCII byte that is not kSafe, padded to 8 bytes
// so one fixed-size copy writes it (ESC comes every few bytes in colored
// output, and a branchy switch per ESC showed in profiles).
struct Escape {
  char text[7];
  std::uint8_t length;
};
static_assert(sizeof(Escape) == 8);

constexpr std::array<Escape, 128> MakeEscapeTable() {
  std::array<Escape, 128> t{};
  for (int c = 0; c < 0x20; ++c) {
    t[c] = {{'\\', 'u', '0', '0', kHexDigits[c >> 4], kHexDigits[c & 0xf], 0}, 6};
  }
  t['\b'] = {{'\\', 'b'}, 2};
  t['\t'] = {{'\\', 't'}, 2};
  t['\n'] = {{'\\', 'n'}, 2};
  t['\f'] = {{'\\', 'f'}, 2};
  t['\r'] = {{'\\', 'r'}, 2};
  t['"'] = {{'\\', '"'}, 2};
  t['\\'] = {{'\\', '\\'}, 2};
  return t;
}
constexpr std::array<Escape, 128> kEscapes = MakeEscapeTable();

// d must have 8 bytes of room; c is an ASCII byte that is not kSafe.
inline char* EscapeAscii(unsigned char c, char* d) {
  std::memcpy(d, &kEscapes[c], sizeof(Escape));
  return d + kEscapes[c].length;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Four hex digits at text[pos]; -1 if they are not there.
long Hex4(std::string_view text, std::size_t pos) {
  if (pos > text.size() || text.size() - pos < 4) return -1;
  long v = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const int h = HexValue(text[pos + i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

void AppendCodePoint(long cp, std::string* out) {
  const auto u = static_cast<std::uint32_t>(cp);
  if (u < 0x80) {
    out->push_back(static_cast<char>(u));
  } else if (u < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (u >> 6)));
    out->push_back(static_cast<char>(0x80 | (u & 0x3F)));
  } else if (u < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (u >> 12)));
    out->push_back(static_cast<char>(0x80 | ((u >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (u & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (u >> 18)));
    out->push_back(static_cast<char>(0x80 | ((u >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((u >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (u & 0x3F)));
  }
}

}  // namespace

Utf8Step DecodeUtf8Step(const unsigned char* p, std::size_t avail) {
  // Unicode 15, table 3-7: the lead byte fixes the length and the range of
  // the second byte; later bytes are always 80..BF.
  const unsigned char lead = p[0];
  std::size_t need = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 1;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 2;
    if (lead == 0xE0) lo = 0xA0;  // overlong
    if (lead == 0xED) hi = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 3;
    if (lead == 0xF0) lo = 0x90;  // overlong
    if (lead == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return {1, false};
  }
  for (std::size_t i = 1; i <= need; ++i) {
    if (i >= avail) return {0, false};
    const unsigned char b = p[i];
    if (b < lo || b > hi) return {i, false};
    lo = 0x80;
    hi = 0xBF;
  }
  return {need + 1, true};
}

std::size_t EscapeInto(std::string_view in, bool final, char* dst, std::size_t* consumed) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = in.size();
  std::size_t i = 0;
  char* d = dst;
  while (i < n) {
    if constexpr (std::endian::native == std::endian::little) {
      if (n - i >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p + i, 8);
        // Store all 8 (dst has room for 6 per input byte) and keep the
        // safe prefix: one step per special byte instead of a byte loop.
        std::memcpy(d, &w, 8);
        const std::uint64_t unsafe = UnsafeBytes(w);
        if (unsafe == 0) {
          d += 8;
          i += 8;
          continue;
        }
        const auto safe = static_cast<std::size_t>(std::countr_zero(unsafe) >> 3);
        d += safe;
        i += safe;
      }
    }
    while (i < n && kSafe[p[i]]) *d++ = static_cast<char>(p[i++]);
    if (i == n) break;
    const unsigned char c = p[i];
    if (c < 0x80) {
      d = EscapeAscii(c, d);
      ++i;
      continue;
    }
    const Utf8Step step = DecodeUtf8Step(p + i, n - i);
    if (step.length == 0) {
      if (!final) break;
      std::memcpy(d, kReplacement.data(), kReplacement.size());
      d += kReplacement.size();
      i = n;
      break;
    }
    if (step.valid) {
      std::memcpy(d, p + i, step.length);
      d += step.length;
    } else {
      std::memcpy(d, kReplacement.data(), kReplacement.size());
      d += kReplacement.size();
    }
    i += step.length;
  }
  *consumed = i;
  return static_cast<std::size_t>(d - dst);
}

Status DecodeString(std::string_view text, std::size_t* pos, std::string* out) {
  out->clear();
  std::size_t i = *pos;
  if (i >= text.size() || text[i] != '"') return InvalidArgument("expected a string");
  ++i;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (;;) {
    const std::size_t run = i;
    while (i < n && kSafe[p[i]]) ++i;
    out->append(text.data() + run, i - run);
    if (i >= n) return InvalidArgument("unterminated string");
    const unsigned char c = p[i];
    if (c == '"') break;
    if (c < 0x20) return InvalidArgument("control character in a string");
    if (c >= 0x80) {
      const Utf8Step step = DecodeUtf8Step(p + i, n - i);
      if (!step.valid) return InvalidArgument("invalid UTF-8 in a string");
      out->append(text.data() + i, step.length);
      i += step.length;
      continue;
    }
    // A backslash.
    if (i + 1 >= n) return InvalidArgument("unterminated string");
    const char e = text[i + 1];
    i += 2;
    switch (e) {
      case '"':
        out->push_back('"');
        break;
      case '\\':
        out->push_back('\\');
        break;
      case '/':
        out->push_back('/');
        break;
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'u': {
        long cp = Hex4(text, i);
        if (cp < 0) return InvalidArgument("bad \\u escape in a string");
        i += 4;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return InvalidArgument("lone surrogate in a string");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          const long low =
              i + 1 < n && text[i] == '\\' && text[i + 1] == 'u' ? Hex4(text, i + 2) : -1;
          if (low < 0xDC00 || low > 0xDFFF) return InvalidArgument("lone surrogate in a string");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          i += 6;
        }
        AppendCodePoint(cp, out);
        break;
      }
      default:
        return InvalidArgument("unknown escape in a string");
    }
  }
  *pos = i + 1;
  return Status::Ok();
}

std::size_t FormatTime(double t, char* dst) {
  if (!(t > 0)) t = 0;  // also NaN
  if (t > 1e12) t = 1e12;
  const auto micros = static_cast<std::uint64_t>(std::llround(t * 1e6));
  std::uint64_t secs = micros / 1000000;
  std::uint64_t frac = micros % 1000000;
  char digits[24];
  std::size_t nd = 0;
  do {
    digits[nd++] = static_cast<char>('0' + secs % 10);
    secs /= 10;
  } while (secs != 0);
  char* d = dst;
  while (nd > 0) *d++ = digits[--nd];
  *d++ = '.';
  for (int k = 5; k >= 0; --k) {
    d[k] = static_cast<char>('0' + frac % 10);
    frac /= 10;
  }
  d += 6;
  return static_cast<std::size_t>(d - dst);
}

}  // namespace gate::cast::internal
