// RFC 4648 section 5's base64url without padding, as JOSE (RFC 7515) and
// PKCE (RFC 7636) use it.
#ifndef GATE_CA_CONNECTORS_BASE64URL_H_
#define GATE_CA_CONNECTORS_BASE64URL_H_

#include <optional>
#include <string>
#include <string_view>

namespace gate::ca {

std::string Base64UrlEncode(std::string_view data);

// Strict: no padding, no '+', '/' or whitespace; nullopt otherwise.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace gate::ca

#endif  // GATE_CA_CONNECTORS_BASE64URL_H_
