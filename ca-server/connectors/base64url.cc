#include "ca-server/connectors/base64url.h"

#include "gate/bytes.h"

namespace gate::ca {

std::string Base64UrlEncode(std::string_view data) {
  std::string s = Base64Encode(data);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) {
    if (c == '+') {
      c = '-';
    } else if (c == '/') {
      c = '_';
    }
  }
  return s;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string std_b64(text);
  for (char& c : std_b64) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (c == '+' || c == '/' || c == '=') {
      return std::nullopt;
    }
  }
  std_b64.append((4 - std_b64.size() % 4) % 4, '=');
  auto raw = Base64Decode(std_b64);
  if (!raw) return std::nullopt;
  return *std::move(raw);
}

}  // namespace gate::ca
