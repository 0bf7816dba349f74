// The web UI's routes: its pages and their assets under /web/, served from
// the bundle compiled into gate-ca (web_bundle.h). The pages are static; a
// page's script asks the JSON API for everything about the user (docs/web.md).
#ifndef GATE_CA_API_WEB_UI_H_
#define GATE_CA_API_WEB_UI_H_

#include "ca-server/api/router.h"

namespace gate::ca {

// Registers, all GET and in the router's default traffic class:
//   /web                   302 to /web/
//   /web/                  home page (302 to /web/login without a
//                          session cookie)
//   /web/login             login page
//   /web/sessions          sessions list (302 to /web/login without a
//                          session cookie, like /web/)
//   /web/sessions/{id}     a session's page (likewise; its CSP alone adds
//                          'wasm-unsafe-eval' for the replay player)
//   /web/newuser/{token}   signup page (the token stays in the URL for the
//                          page's script; the server never reads or logs it)
//   /web/assets/{name}     a hashed asset, cacheable for a year
//   anything else under /web/: 404 with an HTML page.
// Every reply carries AddSecurityHeaders (HTML policy; HSTS when hsts,
// which must be false while gate-ca serves its own self-signed
// certificate: Services::tls_self_signed).
void RegisterWebUi(Router& router, bool hsts);

}  // namespace gate::ca

#endif  // GATE_CA_API_WEB_UI_H_
