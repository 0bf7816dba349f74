// Single sign-on in the browser (docs/api.md, "Single sign-on"):
//   GET /v1/sso/oidc/{connector}/login   302 to the identity provider, with
//                                        the login's binding in a __Host-
//                                        cookie (SameSite=Lax, so it comes
//                                        back on the provider's redirect)
//   GET /v1/sso/oidc/callback            the provider's redirect back: the
//                                        login is finished (SsoLogin), a
//                                        browser session starts, and a page
//                                        that moves on to /web/
// Failures send the browser to /web/login?sso_error=<why>, which the page
// shows; the audit log has the details.
//
// The CLI (gate login --auth=NAME):
//   POST /v1/sso/oidc/{connector}/cli    {public_key, callback_port,
//                                        ttl_seconds} -> {url, secret}: the
//                                        login to open in a browser, and the
//                                        secret that alone collects it
//   (callback, as above)                 for a CLI login: the result is
//                                        held (SsoCliResults) and the browser
//                                        sent to http://127.0.0.1:PORT/callback
//                                        ?code=<one-time code> (or ?error=)
//   POST /v1/sso/cli/collect             {code, secret} -> POST /v1/login's
//                                        reply: the certificate
#ifndef GATE_CA_API_SSO_API_H_
#define GATE_CA_API_SSO_API_H_

#include <string_view>

#include "ca-server/api/router.h"
#include "ca-server/api/web_api.h"
#include "ca-server/connectors/sso_cli_results.h"
#include "ca-server/connectors/sso_login.h"

namespace gate::ca {

inline constexpr std::string_view kSsoCookieName = "__Host-gate_sso";

struct SsoApiDeps {
  WebApiDeps& web;
  SsoLogin& login;
  SsoCliResults& cli_results;
};

// Registers the routes on router; deps must outlive it.
void RegisterSsoApi(Router& router, SsoApiDeps& deps);

}  // namespace gate::ca

#endif  // GATE_CA_API_SSO_API_H_
