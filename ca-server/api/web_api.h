// The web UI's API under /v1/web/ (docs/api.md, "Browser sessions"):
//
//   POST /v1/web/login          {"user","password","otp_code"} -> SessionBody + cookie
//   GET  /v1/web/session        the cookie's session -> SessionBody
//   POST /v1/web/logout         ends the session, clears the cookie
//   POST /v1/web/signup/start   {"token"} -> what the signup page shows
//   POST /v1/web/signup/finish  {"token","password","otp_code"} -> SessionBody + cookie
//
// Every POST here needs Origin to be the browser origin (browser_auth.h);
// logout needs the CSRF token too. Login and signup run on the login queue,
// take the per-source rate limit (CheckAuthRate) and the same Authenticator
// and SignupService as the CLI's routes.
#ifndef GATE_CA_API_WEB_API_H_
#define GATE_CA_API_WEB_API_H_

#include "ca-server/api/browser_auth.h"
#include "ca-server/api/router.h"
#include "ca-server/api/services.h"

namespace gate::ca {

struct WebApiDeps {
  Services& services;
  BrowserAuth& browser;
};

// A new browser session for user, whom the caller has authenticated (a
// password login, a signup, a connector's login): the lock decision first
// (a locked user gets 403 and no session, audited as user.web_login), then
// the session, the reply with the session JSON (GET /v1/web/session's
// body) and the Set-Cookie that carries it.
HttpReply StartWebSession(WebApiDeps& d, const HttpRequest& req, const UserRecord& user);

// Registers the routes on router. deps (and what it refers to) must outlive
// the router.
void RegisterWebApi(Router& router, WebApiDeps& deps);

}  // namespace gate::ca

#endif  // GATE_CA_API_WEB_API_H_
