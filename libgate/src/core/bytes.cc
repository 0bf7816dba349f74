#include "gate/bytes.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cstdlib>

namespace gate {
namespace {

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::uint8_t kInvalid = 0xff;

// Reverse lookup built at compile time; every byte outside the alphabet
// (including '=', whitespace and NUL) maps to kInvalid.
constexpr std::array<std::uint8_t, 256> MakeBase64Table() {
  std::array<std::uint8_t, 256> table{};
  for (auto& v : table) v = kInvalid;
  for (std::uint8_t i = 0; i < 64; ++i) {
    table[static_cast<unsigned char>(kBase64Alphabet[i])] = i;
  }
  return table;
}
constexpr std::array<std::uint8_t, 256> kBase64Table = MakeBase64Table();

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

// Hand-written rather than EVP_EncodeBlock, like Base64Decode below, so that
// programs that encode but never hash or sign (gate-principals) do not need
// libcrypto at all.
std::string Base64Encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  const auto byte = [&data](std::size_t at) -> std::uint32_t {
    return static_cast<unsigned char>(data[at]);
  };
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += kBase64Alphabet[v >> 18];
    out += kBase64Alphabet[(v >> 12) & 0x3f];
    out += kBase64Alphabet[(v >> 6) & 0x3f];
    out += kBase64Alphabet[v & 0x3f];
  }
  if (const std::size_t left = data.size() - i; left > 0) {
    const std::uint32_t v = byte(i) << 16 | (left == 2 ? byte(i + 1) << 8 : 0);
    out += kBase64Alphabet[v >> 18];
    out += kBase64Alphabet[(v >> 12) & 0x3f];
    out += left == 2 ? kBase64Alphabet[(v >> 6) & 0x3f] : '=';
    out += '=';
  }
  return out;
}

// Hand-written rather than EVP_DecodeBlock: that function skips leading and
// trailing whitespace, decodes padding as zero bytes and accepts non-zero
// trailing bits, so two different texts could decode to one key or
// certificate. Here each byte string has exactly one accepted encoding.
Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return Err(InvalidArgument("base64: length is not a multiple of 4"));
  }
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') {
    padding = 1;
    if (text[text.size() - 2] == '=') padding = 2;
  }
  const std::size_t out_len = text.size() / 4 * 3 - padding;
  std::string out;
  // Sized once, up front: callers decode private keys with this, and a
  // growing buffer would leave partial copies behind in freed memory.
  out.resize(out_len);
  std::size_t o = 0;
  const std::size_t data_len = text.size() - padding;
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < data_len; ++i) {
    const std::uint8_t v = kBase64Table[static_cast<unsigned char>(text[i])];
    if (v == kInvalid) {
      return Err(InvalidArgument("base64: invalid character at offset " + std::to_string(i)));
    }
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = static_cast<char>((acc >> bits) & 0xff);
    }
  }
  // Bits left over after the last whole byte must be zero; otherwise the
  // text is a non-canonical encoding (a covert channel, and a second
  // spelling of the same bytes).
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
    return Err(InvalidArgument("base64: non-zero padding bits"));
  }
  return out;
}

std::string Base64UrlEncode(std::string_view data) {
  std::string out = Base64Encode(data);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

Result<std::string> Base64UrlDecode(std::string_view text) {
  std::string standard;
  standard.reserve(text.size() + 3);
  for (char c : text) {
    // '+', '/' and '=' belong to standard base64, not to base64url.
    if (c == '+' || c == '/' || c == '=')
      return Err(InvalidArgument("base64url: invalid character"));
    standard.push_back(c == '-' ? '+' : c == '_' ? '/' : c);
  }
  if (standard.size() % 4 == 1) return Err(InvalidArgument("base64url: bad length"));
  while (standard.size() % 4 != 0) standard.push_back('=');
  return Base64Decode(standard);
}

std::string HexEncode(std::string_view data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.resize(data.size() * 2);
  for (std::size_t i = 0; i < data.size(); ++i) {
    const auto b = static_cast<unsigned char>(data[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 0x0f];
  }
  return out;
}

std::string PercentEncode(std::string_view data) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (char c : data) {
    const auto b = static_cast<unsigned char>(c);
    if (std::isalnum(b) != 0 || c == '-' || c == '.' || c == '_' || c == '~' || c == '@') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kDigits[b >> 4]);
      out.push_back(kDigits[b & 0x0f]);
    }
  }
  return out;
}

Result<std::string> HexDecode(std::string_view text) {
  if (text.size() % 2 != 0) {
    return Err(InvalidArgument("hex: odd length"));
  }
  std::string out;
  out.resize(text.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = HexValue(text[2 * i]);
    const int lo = HexValue(text[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Err(InvalidArgument("hex: invalid character"));
    }
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

std::string Sha256(std::string_view data) {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  unsigned int len = 0;
  // EVP_Digest with a built-in digest and an in-memory buffer only fails on
  // allocation failure; a wrong hash must never be returned silently.
  if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
                 EVP_sha256(), nullptr) != 1 ||
      len != SHA256_DIGEST_LENGTH) {
    std::abort();
  }
  return out;
}

Result<std::string> RandomBytes(std::size_t n) {
  if (n > static_cast<std::size_t>(INT_MAX))
    return Err(InvalidArgument("random: too many bytes requested"));
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return Err(Internal("random: OpenSSL RNG failure"));
  }
  return out;
}

Result<std::uint64_t> RandomU64() {
  unsigned char buf[8];
  if (RAND_bytes(buf, sizeof buf) != 1) {
    return Err(Internal("random: OpenSSL RNG failure"));
  }
  std::uint64_t v = 0;
  for (unsigned char b : buf) v = (v << 8) | b;
  return v;
}

}  // namespace gate
