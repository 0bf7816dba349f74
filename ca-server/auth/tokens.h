// Bearer tokens (signup links, sessions): random, shown to their holder once,
// and stored only as a hash so a copy of the database does not hand them out.
//
// Thread safety: all functions are safe to call concurrently.
#ifndef GATE_CA_AUTH_TOKENS_H_
#define GATE_CA_AUTH_TOKENS_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "gate/status.h"

namespace gate::ca {

// 128 bits: out of reach of online guessing, and a plain (unsalted) hash is
// enough to store them, unlike passwords.
inline constexpr std::size_t kTokenBytes = 16;
inline constexpr std::size_t kTokenHexChars = 2 * kTokenBytes;

// A new token: kTokenBytes from the OpenSSL CSPRNG as kTokenHexChars
// lower-case hex characters. Internal if the RNG fails.
Result<std::string> NewToken();

// Lower-case hex SHA-256 of token, the form Store keeps (SignupToken::token_hash).
std::string HashToken(std::string_view token);

// True iff token has the shape NewToken produces: exactly kTokenHexChars
// characters from [0-9a-f]. Use it to reject junk before touching the store.
bool LooksLikeToken(std::string_view token);

}  // namespace gate::ca

#endif  // GATE_CA_AUTH_TOKENS_H_
