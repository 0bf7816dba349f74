// Encodings of binary data used across gate: base64 (OpenSSH key lines,
// certificates), hex (fingerprints, token hashes), random bytes, SHA-256.
// Binary data travels in std::string (public data) or SecretBytes/SecretString.
#ifndef GATE_BYTES_H_
#define GATE_BYTES_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "gate/status.h"

namespace gate {

// Standard base64 with padding, no line breaks.
std::string Base64Encode(std::string_view data);
// Strict: rejects characters outside the alphabet, bad padding, embedded
// whitespace. InvalidArgument on any of these.
Result<std::string> Base64Decode(std::string_view text);

// Unpadded base64url (RFC 4648 §5), as WebAuthn, session ids and CSRF
// tokens use it. Decode is strict like Base64Decode: InvalidArgument on any
// character outside the alphabet ('+', '/' and '=' included), a bad
// length, or non-zero trailing bits, so each byte string has one spelling.
std::string Base64UrlEncode(std::string_view data);
Result<std::string> Base64UrlDecode(std::string_view text);

// Lower-case hex.
std::string HexEncode(std::string_view data);
// Accepts upper or lower case; InvalidArgument on odd length or non-hex.
Result<std::string> HexDecode(std::string_view text);

// RFC 3986 percent-encoding for a URI component (a query value, an
// otpauth:// label): letters, digits, '-', '.', '_', '~' and '@' stay as
// they are; every other byte becomes %XX (upper-case hex).
std::string PercentEncode(std::string_view data);

// SHA-256 of data, 32 raw bytes.
std::string Sha256(std::string_view data);

// n bytes from the OpenSSL CSPRNG. Internal on RNG failure (never returns
// weak randomness).
Result<std::string> RandomBytes(std::size_t n);
Result<std::uint64_t> RandomU64();

}  // namespace gate

#endif  // GATE_BYTES_H_
