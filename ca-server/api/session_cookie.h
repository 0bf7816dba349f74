// The browser session cookie (docs/security.md, "Browser sessions"): reading
// it from a Cookie header, and the Set-Cookie values that set and clear it.
//
// The name carries the __Host- prefix, so browsers accept it only with
// Secure, Path=/ and no Domain: no sibling host or plain-HTTP page can set
// or shadow it.
//
// Thread safety: pure functions.
#ifndef GATE_CA_API_SESSION_COOKIE_H_
#define GATE_CA_API_SESSION_COOKIE_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "gate/status.h"

namespace gate::ca {

inline constexpr std::string_view kSessionCookieName = "__Host-gate_session";

// The session cookie's value in a Cookie header ("a=1; __Host-gate_session=X"),
// by RFC 6265's grammar (pairs split on ';', optional spaces around them).
// Other cookies are ignored, whatever they hold. nullopt when the cookie is
// absent; InvalidArgument when it appears more than once (a sibling could
// plant a second one hoping it is read first) or its value is empty or not
// base64url (an id never is).
Result<std::optional<std::string>> SessionCookieValue(std::string_view cookie_header);

// The same for any cookie of gate-ca's whose value is base64url (the single
// sign-on flow's binding): the value of cookie `name`, nullopt when absent,
// InvalidArgument when repeated or malformed.
Result<std::optional<std::string>> CookieValue(std::string_view cookie_header,
                                               std::string_view name);

// "__Host-gate_session=<id>; Path=/; Max-Age=<max_age>; Secure; HttpOnly;
// SameSite=Strict".
std::string SessionCookie(std::string_view session_id, std::chrono::seconds max_age);

// The same with an empty value and Max-Age=0: the browser drops the cookie.
std::string ExpiredSessionCookie();

}  // namespace gate::ca

#endif  // GATE_CA_API_SESSION_COOKIE_H_
