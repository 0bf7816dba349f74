#include "ca-server/auth/tokens.h"

#include "gate/bytes.h"

namespace gate::ca {

Result<std::string> NewToken() {
  Result<std::string> bytes = RandomBytes(kTokenBytes);
  if (!bytes) return Err(bytes.error());
  return HexEncode(*bytes);
}

std::string HashToken(std::string_view token) { return HexEncode(Sha256(token)); }

bool LooksLikeToken(std::string_view token) {
  if (token.size() != kTokenHexChars) return false;
  for (char c : token) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace gate::ca
