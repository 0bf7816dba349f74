// Requests from browsers (docs/security.md, "Browser sessions"): the session
// cookie, and the Origin and CSRF rules that keep another site from making a
// logged-in browser act for it. Every route that takes a browser session goes
// through BrowserAuth::Authenticate, and every POST under /v1/web/ through
// CheckSameOrigin, so the rules live here once.
//
// The decision table, for a request carrying the session cookie:
//   GET, HEAD, OPTIONS                  the cookie alone
//   POST, PUT, PATCH, DELETE, anything  Origin == the browser origin, else 403
//                                       kCrossOrigin; then X-CSRF-Token ==
//                                       the session's token, else 403 kBadCsrf
// and every POST under /v1/web/ (login and signup too, which have no session
// yet) needs the Origin check. A missing Origin is refused like a wrong one.
//
// Thread safety: BrowserAuth may be used from many threads at once.
#ifndef GATE_CA_API_BROWSER_AUTH_H_
#define GATE_CA_API_BROWSER_AUTH_H_

#include <string>
#include <string_view>

#include "ca-server/api/http_types.h"
#include "ca-server/auth/web_sessions.h"
#include "gate/config.h"
#include "gate/status.h"

namespace gate::ca {

inline constexpr std::string_view kCrossOrigin = "cross-origin request refused";
inline constexpr std::string_view kBadCsrf = "missing or wrong CSRF token";

// "https://" + public_addr, as a browser sends it in Origin: the host in
// lower case, ":443" left out.
std::string BrowserOrigin(const HostPort& public_addr);

// True for every method but GET, HEAD and OPTIONS.
bool ChangesState(std::string_view method);

// OK iff req.origin is exactly browser_origin; PermissionDenied(kCrossOrigin)
// otherwise (absent, "null", another site, several Origin fields).
Status CheckSameOrigin(const HttpRequest& req, std::string_view browser_origin);

// The table above for a request whose cookie named session: OK for methods
// that change nothing; otherwise CheckSameOrigin, then the CSRF token
// (constant-time compare of hashes).
Status CheckBrowserRequest(const HttpRequest& req, std::string_view browser_origin,
                           const WebSessionRecord& session);

// True if req carries a session cookie, even a malformed or duplicated one
// (which Authenticate then refuses): such a request is a browser's, and is
// judged by the browser rules.
bool HasSessionCookie(const HttpRequest& req);

class BrowserAuth {
 public:
  // sessions and public_addr must outlive the object. public_addr is read
  // on every request (gate-ca settles it once the port is bound, before it
  // serves), and must not change while requests are served.
  BrowserAuth(WebSessions& sessions, const HostPort& public_addr)
      : sessions_(sessions), public_addr_(public_addr) {}

  // The request's session, by the table above. Unauthenticated(kNotLoggedIn)
  // when the cookie is absent, duplicated, malformed or names no good
  // session (WebSessions::Validate); PermissionDenied (kCrossOrigin,
  // kBadCsrf) for a state-changing request that fails the checks, decided
  // before the session is looked up when it is the Origin.
  Result<ActiveWebSession> Authenticate(const HttpRequest& req);

  // The request's session id, when it carries exactly one well-formed cookie.
  static std::optional<std::string> SessionId(const HttpRequest& req);

  WebSessions& sessions() { return sessions_; }
  // BrowserOrigin(public_addr).
  std::string origin() const { return BrowserOrigin(public_addr_); }

 private:
  WebSessions& sessions_;
  const HostPort& public_addr_;
};

}  // namespace gate::ca

#endif  // GATE_CA_API_BROWSER_AUTH_H_
