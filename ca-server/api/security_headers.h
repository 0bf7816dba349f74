// The security headers on gate-ca's public HTTPS replies (docs/security.md,
// "Browser sessions"). The server itself sets Cache-Control: no-store and
// X-Content-Type-Options: nosniff on every reply (http_server.cc).
//
// Thread safety: pure functions.
#ifndef GATE_CA_API_SECURITY_HEADERS_H_
#define GATE_CA_API_SECURITY_HEADERS_H_

#include <string_view>

#include "ca-server/api/http_types.h"

namespace gate::ca {

// The CSP of replies that are not pages: nothing may load, nothing may frame.
inline constexpr std::string_view kJsonContentSecurityPolicy =
    "default-src 'none'; frame-ancestors 'none'";
inline constexpr std::string_view kHstsValue = "max-age=31536000";

// Adds to reply, unless it carries a header of the same name already (a page
// under /web/ sets its own CSP): Content-Security-Policy
// kJsonContentSecurityPolicy, Referrer-Policy: no-referrer,
// X-Frame-Options: DENY, and, when hsts, Strict-Transport-Security
// kHstsValue. hsts must be false while gate-ca serves its own self-signed
// certificate (Services::tls_self_signed): pinning a browser to a
// certificate it was told to click through would lock users out once a
// real one is installed under another name.
void AddSecurityHeaders(HttpReply& reply, bool hsts);

}  // namespace gate::ca

#endif  // GATE_CA_API_SECURITY_HEADERS_H_
