// The browser terminal and live join endpoints (docs/api.md, "Browser
// terminal and live join"), both WebSocket upgrades on the HTTPS port:
//
//   GET /v1/web/terminal?node=HOST_UUID&login=LOGIN
//   GET /v1/web/sessions/{id}/join[?mode=observer|peer]
//
// Upgrade decides, before any upgrade, with plain HTTP errors: Origin must
// be the browser origin (403 "cross-origin request refused"), the session
// cookie must be good (401), the query well formed (400); a terminal's node
// must exist (404), have an SSH address (409) and let the user log in as
// LOGIN (403, "login 'LOGIN' not allowed on this node"); a join's session
// must exist and be visible to the user (404, alike), be live (409), and
// its node must give the user a login (403); and the user must be under the
// caps (429, terminal_caps.h). Accepted, the connection is served by a
// TerminalBridge (terminal_bridge.h), which checks the CSRF token in the
// first message before anything else happens.
//
// The same paths without an upgrade get 426 (RegisterWebTerminalRoutes).
//
// Thread safety: Upgrade may run on many workers at once.
#ifndef GATE_CA_WEB_WEB_TERMINALS_H_
#define GATE_CA_WEB_WEB_TERMINALS_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "ca-server/api/browser_auth.h"
#include "ca-server/api/router.h"
#include "ca-server/api/services.h"
#include "ca-server/api/websocket.h"
#include "ca-server/auth/web_sessions.h"
#include "ca-server/web/terminal_bridge.h"
#include "ca-server/web/terminal_caps.h"

namespace gate::ca::web {

class WebTerminals {
 public:
  // services and browser must outlive the object.
  WebTerminals(Services& services, BrowserAuth& browser);
  // Shutdown().
  ~WebTerminals();
  WebTerminals(const WebTerminals&) = delete;
  WebTerminals& operator=(const WebTerminals&) = delete;

  // HttpServerOptions::upgrade: nullopt for a path that is neither endpoint.
  std::optional<UpgradeResult> Upgrade(const HttpRequest& req);

  // Ends every bridge and waits for their threads (each ends within its
  // current SSH step's timeout); later upgrades are refused (503). Call
  // after the HTTP server stopped, before it is destroyed.
  void Shutdown();

 private:
  Result<BridgeTarget> TerminalTarget(const ActiveWebSession& session, const HttpRequest& req);
  Result<BridgeTarget> JoinTarget(const ActiveWebSession& session, const HttpRequest& req,
                                  const std::string& session_id);
  UpgradeResult Accept(BridgeTarget target);
  void Ended(const std::string& user);

  Services& services_;
  BrowserAuth& browser_;
  TerminalCaps caps_;

  std::mutex mu_;
  std::condition_variable ended_;
  std::vector<std::weak_ptr<TerminalBridge>> bridges_;  // guarded by mu_
  int running_ = 0;                                     // guarded by mu_
  bool shut_down_ = false;                              // guarded by mu_
};

// 426 "Upgrade Required" for the endpoints' paths asked without an upgrade.
void RegisterWebTerminalRoutes(Router& router);

}  // namespace gate::ca::web

#endif  // GATE_CA_WEB_WEB_TERMINALS_H_
