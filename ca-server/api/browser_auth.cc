#include "ca-server/api/browser_auth.h"

#include <utility>

#include "ca-server/api/session_cookie.h"

namespace gate::ca {

std::string BrowserOrigin(const HostPort& public_addr) {
  HostPort lower = public_addr;
  for (char& c : lower.host) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  std::string hostport = lower.ToString();
  if (lower.port == 443) hostport.resize(hostport.size() - 4);  // ":443"
  return "https://" + hostport;
}

bool ChangesState(std::string_view method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

Status CheckSameOrigin(const HttpRequest& req, std::string_view browser_origin) {
  if (req.origin.empty() || req.origin != browser_origin) {
    return PermissionDenied(std::string(kCrossOrigin));
  }
  return Status::Ok();
}

Status CheckBrowserRequest(const HttpRequest& req, std::string_view browser_origin,
                           const WebSessionRecord& session) {
  if (!ChangesState(req.method)) return Status::Ok();
  GATE_RETURN_IF_ERROR(CheckSameOrigin(req, browser_origin));
  if (req.csrf_token.empty() || !WebSessions::CsrfMatches(session, req.csrf_token)) {
    return PermissionDenied(std::string(kBadCsrf));
  }
  return Status::Ok();
}

bool HasSessionCookie(const HttpRequest& req) {
  auto value = SessionCookieValue(req.cookie);
  return !value || value->has_value();
}

std::optional<std::string> BrowserAuth::SessionId(const HttpRequest& req) {
  auto value = SessionCookieValue(req.cookie);
  if (!value) return std::nullopt;
  return *std::move(value);
}

Result<ActiveWebSession> BrowserAuth::Authenticate(const HttpRequest& req) {
  const std::string origin = this->origin();
  if (ChangesState(req.method)) GATE_RETURN_IF_ERROR(CheckSameOrigin(req, origin));
  std::optional<std::string> id = SessionId(req);
  if (!id) return Err(Unauthenticated(std::string(kNotLoggedIn)));
  auto session = sessions_.Validate(*id);
  if (!session) return session;
  GATE_RETURN_IF_ERROR(CheckBrowserRequest(req, origin, session->record));
  return session;
}

}  // namespace gate::ca
