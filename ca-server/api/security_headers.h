// The response headers that keep a browser from misusing gate-ca's replies:
// a strict Content-Security-Policy, no Referer (the signup page carries its
// token in the URL), no framing, and HSTS where it is safe to promise.
// docs/security.md ("Browser headers") explains each. The server itself sets
// Cache-Control (HttpReply::cache_control) and X-Content-Type-Options:
// nosniff on every reply (http_server.cc).
//
// Thread safety: pure functions over the reply.
#ifndef GATE_CA_API_SECURITY_HEADERS_H_
#define GATE_CA_API_SECURITY_HEADERS_H_

#include <string_view>

#include "ca-server/api/http_types.h"

namespace gate::ca {

// The CSP of the web UI's pages and assets: scripts, styles and fonts only
// from gate-ca itself, no inline script, images also as data: URIs, and
// no framing by anyone.
inline constexpr std::string_view kHtmlContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";
// The CSP of the session page (/web/sessions/{id}) alone: the HTML policy
// plus 'wasm-unsafe-eval', because asciinema-player's terminal is
// WebAssembly compiled from bytes in its own script (WebAssembly.instantiate
// needs it). It allows compiling WebAssembly, not JavaScript eval; no other
// page gets it (docs/security.md, "Browser headers").
inline constexpr std::string_view kReplayContentSecurityPolicy =
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";
// The CSP of every other reply: nothing in it may load or run anything.
inline constexpr std::string_view kJsonContentSecurityPolicy =
    "default-src 'none'; frame-ancestors 'none'";
// One year: browsers keep the promise that long; a certificate change that
// breaks HTTPS is not a reason to fall back to HTTP.
inline constexpr std::string_view kStrictTransportSecurity = "max-age=31536000";

// Adds to reply, unless it carries a header of the same name already (so a
// page's own policy, set first, is kept when gate-ca adds the defaults to
// every public reply): Content-Security-Policy (the HTML policy when
// is_html, else the JSON one), Referrer-Policy: no-referrer,
// X-Frame-Options: DENY and, when hsts, Strict-Transport-Security. hsts
// must be false while gate-ca serves its own self-signed certificate
// (Services::tls_self_signed): pinning a browser to HTTPS on a certificate
// it cannot verify would lock users out once the name gets a real one.
void AddSecurityHeaders(HttpReply& reply, bool is_html, bool hsts);

}  // namespace gate::ca

#endif  // GATE_CA_API_SECURITY_HEADERS_H_
