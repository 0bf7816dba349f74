#include "ca-server/web/web_terminals.h"

#include <algorithm>
#include <string>
#include <utility>

#include "ca-server/api/query.h"
#include "ca-server/sessions/session_access.h"
#include "gate/names.h"
#include "gate/policy.h"
#include "gate/uuid.h"

namespace gate::ca::web {
namespace {

constexpr std::string_view kTerminalPath = "/v1/web/terminal";
constexpr std::string_view kSessionsPrefix = "/v1/web/sessions/";
constexpr std::string_view kJoinSuffix = "/join";
constexpr std::string_view kJoinRoute = "/v1/web/sessions/{id}/join";

// The {id} of a join path, or nullopt for any other path.
std::optional<std::string> JoinSessionId(std::string_view path) {
  if (path.size() <= kSessionsPrefix.size() + kJoinSuffix.size() ||
      path.substr(0, kSessionsPrefix.size()) != kSessionsPrefix ||
      path.substr(path.size() - kJoinSuffix.size()) != kJoinSuffix) {
    return std::nullopt;
  }
  std::string_view id = path.substr(kSessionsPrefix.size(),
                                    path.size() - kSessionsPrefix.size() - kJoinSuffix.size());
  if (id.find('/') != std::string_view::npos) return std::nullopt;
  return std::string(id);
}

// The logins user may use on a node with these labels (policy::LoginsOnNode,
// what the nodes page lists).
Result<std::vector<std::string>> LoginsOn(Store& store, const UserRecord& user,
                                          const NodeRecord& node) {
  auto roles = store.ListRoles();
  if (!roles) return Err(roles.error());
  return policy::LoginsOnNode({user.name, user.logins, user.roles}, *roles, node.labels);
}

// The node's SSH address and host key into target.
Status Reach(const NodeRecord& node, BridgeTarget* target) {
  if (node.ssh_address.empty()) {
    return FailedPrecondition("node " + node.hostname +
                              " has no SSH address; an admin sets it with gatectl nodes update "
                              "--ssh-address HOST:PORT");
  }
  auto address = ParseHostPort(node.ssh_address);
  if (!address) return Internal("node " + node.hostname + ": bad SSH address");
  auto key = ssh::Ed25519PublicKey::FromAuthorizedKey(node.host_key);
  if (!key) return Internal("node " + node.hostname + ": bad registered host key");
  target->ssh_host = address->host;
  target->ssh_port = address->port;
  target->host_key = *std::move(key);
  target->node = node;
  return Status::Ok();
}

HttpReply Refusal(const Status& status, std::string_view route) {
  HttpReply reply = ErrorReply(status);
  reply.route = std::string(route);
  return reply;
}

}  // namespace

WebTerminals::WebTerminals(Services& services, BrowserAuth& browser)
    : services_(services), browser_(browser), caps_(services.config.web_terminal) {}

WebTerminals::~WebTerminals() { Shutdown(); }

std::optional<UpgradeResult> WebTerminals::Upgrade(const HttpRequest& req) {
  std::optional<std::string> join_id = JoinSessionId(req.path);
  if (req.path != kTerminalPath && !join_id) return std::nullopt;
  const std::string_view route = join_id ? kJoinRoute : kTerminalPath;
  UpgradeResult out;
  out.route = std::string(route);
  // A WebSocket is not bound by the same-origin policy, so the browser's
  // Origin is what stops another site from opening one with the cookie.
  if (Status origin = CheckSameOrigin(req, browser_.origin()); !origin.ok()) {
    out.refusal = Refusal(origin, route);
    return out;
  }
  auto session = browser_.Authenticate(req);
  if (!session) {
    out.refusal = Refusal(session.error(), route);
    return out;
  }
  auto target = join_id ? JoinTarget(*session, req, *join_id) : TerminalTarget(*session, req);
  if (!target) {
    const Code code = target.error().code();
    if (code != Code::kInvalidArgument && code != Code::kInternal && code != Code::kUnavailable) {
      services_.audit.Record({services_.now(), join_id ? "user.web_join" : "user.web_terminal",
                              session->user.name, req.source, false, target.error().message()});
    }
    out.refusal = Refusal(target.error(), route);
    return out;
  }
  UpgradeResult accepted = Accept(*std::move(target));
  accepted.route = out.route;
  return accepted;
}

Result<BridgeTarget> WebTerminals::TerminalTarget(const ActiveWebSession& session,
                                                  const HttpRequest& req) {
  auto query = ParseQuery(req.query, {"node", "login"});
  if (!query) return Err(query.error());
  auto node_param = query->find("node");
  auto login_param = query->find("login");
  if (node_param == query->end() || login_param == query->end()) {
    return Err(InvalidArgument("node and login are required"));
  }
  const std::string& host_uuid = node_param->second;
  const std::string& login = login_param->second;
  if (!IsCanonicalUuid(host_uuid)) return Err(InvalidArgument("node must be a host UUID"));
  GATE_RETURN_IF_ERROR(ValidateLogin(login));
  auto node = services_.store.GetNode(host_uuid);
  if (!node) {
    return Err(node.error().code() == Code::kNotFound ? NotFound("no node " + host_uuid)
                                                      : node.error());
  }
  auto logins = LoginsOn(services_.store, session.user, *node);
  if (!logins) return Err(logins.error());
  if (std::find(logins->begin(), logins->end(), login) == logins->end()) {
    // The words of the node's own decision (policy::DecideLogin).
    return Err(PermissionDenied("login '" + login + "' not allowed on this node"));
  }
  BridgeTarget target;
  GATE_RETURN_IF_ERROR(Reach(*node, &target));
  target.user = session.user;
  target.web_session = session.record;
  target.login = login;
  target.source = req.source;
  return target;
}

Result<BridgeTarget> WebTerminals::JoinTarget(const ActiveWebSession& session,
                                              const HttpRequest& req,
                                              const std::string& session_id) {
  auto query = ParseQuery(req.query, {"mode"});
  if (!query) return Err(query.error());
  std::string mode = "observer";
  if (auto it = query->find("mode"); it != query->end()) mode = it->second;
  if (mode != "observer" && mode != "peer") {
    return Err(InvalidArgument("mode must be observer or peer"));
  }
  if (!IsCanonicalUuid(session_id)) {
    return Err(InvalidArgument("session id must be a lower-case UUID"));
  }
  auto recorded = VisibleSession(services_.store, session.user, session_id);
  if (!recorded) return Err(recorded.error());
  if (!recorded->live) {
    return Err(FailedPrecondition("session " + session_id + " has ended; replay it instead"));
  }
  auto node = services_.store.GetNode(recorded->host_uuid);
  if (!node) {
    return Err(node.error().code() == Code::kNotFound
                   ? NotFound("the node of session " + session_id + " has left the cluster")
                   : node.error());
  }
  auto logins = LoginsOn(services_.store, session.user, *node);
  if (!logins) return Err(logins.error());
  if (logins->empty()) {
    return Err(PermissionDenied("you have no login on node " + node->hostname +
                                ", so you cannot join its sessions"));
  }
  BridgeTarget target;
  GATE_RETURN_IF_ERROR(Reach(*node, &target));
  target.join = true;
  target.user = session.user;
  target.web_session = session.record;
  target.login = logins->front();
  target.session_id = session_id;
  target.mode = mode;
  target.source = req.source;
  return target;
}

UpgradeResult WebTerminals::Accept(BridgeTarget target) {
  UpgradeResult out;
  const std::string user = target.user.name;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) {
      out.refusal = ErrorReply(Unavailable("gate-ca is stopping"));
      return out;
    }
  }
  if (Status capped = caps_.Reserve(user); !capped.ok()) {
    services_.audit.Record({services_.now(), target.join ? "user.web_join" : "user.web_terminal",
                            user, target.source, false, capped.message()});
    out.refusal = ErrorReply(capped);
    return out;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++running_;
  }
  BridgeDeps deps{services_.issuer, services_.audit, browser_.sessions(), services_.now,
                  [this, user] { Ended(user); }};
  auto bridge = TerminalBridge::Create(std::move(target), std::move(deps));
  if (!bridge) {
    Ended(user);
    out.refusal = ErrorReply(bridge.error());
    return out;
  }
  if (Status started = (*bridge)->Start(); !started.ok()) {
    out.refusal = ErrorReply(started);
    return out;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::erase_if(bridges_, [](const std::weak_ptr<TerminalBridge>& b) { return b.expired(); });
    bridges_.push_back(*bridge);
  }
  out.handler = *std::move(bridge);
  return out;
}

void WebTerminals::Ended(const std::string& user) {
  caps_.Release(user);
  std::lock_guard<std::mutex> lock(mu_);
  --running_;
  ended_.notify_all();
}

void WebTerminals::Shutdown() {
  std::vector<std::shared_ptr<TerminalBridge>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shut_down_ = true;
    for (const auto& weak : bridges_) {
      if (auto bridge = weak.lock()) live.push_back(std::move(bridge));
    }
    bridges_.clear();
  }
  for (const auto& bridge : live) bridge->Stop();
  live.clear();
  std::unique_lock<std::mutex> lock(mu_);
  ended_.wait(lock, [this] { return running_ == 0; });
}

void RegisterWebTerminalRoutes(Router& router) {
  auto upgrade_required = [](const HttpRequest&, const PathParams&) {
    return ErrorReply(426, Code::kFailedPrecondition,
                      "this endpoint takes a WebSocket upgrade (wss://)");
  };
  router.AddRaw("GET", std::string(kTerminalPath), upgrade_required);
  router.AddRaw("GET", std::string(kJoinRoute), upgrade_required);
}

}  // namespace gate::ca::web
