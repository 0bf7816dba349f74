// GET /v1/nodes, signed with the user's Gate certificate or with a browser
// session: what `gate ls` lists, what `gate login` scopes the client's trust
// to, and what the web UI's home page shows.
#include "ca-server/api/query.h"
#include "ca-server/api/session_api.h"
#include "ca-server/nodes/node_directory.h"
#include "gate/json.h"
#include "gate/policy.h"

namespace gate::ca {
namespace {

Result<Json::Value> ListNodes(SessionApiDeps& d, const HttpRequest& req) {
  auto who = AuthenticateUserRequest(d.users, d.browser, req);
  if (!who) return Err(who.error());
  if (auto q = ParseQuery(req.query, {}); !q) return Err(q.error());
  auto nodes = NodesForUser(d.services.store, who->user);
  if (!nodes) return Err(nodes.error());
  Json::Value out;
  out["cluster_name"] = d.services.config.cluster_name;
  out["nodes"] = Json::Value(Json::arrayValue);
  out["host_names"] = json::StringArray(nodes->host_names);
  for (const NodeLogins& n : nodes->reachable) {
    Json::Value node;
    node["name"] = n.node.hostname;
    node["host_uuid"] = n.node.host_uuid;
    node["labels"] = policy::LabelsToJson(n.node.labels);
    node["logins"] = json::StringArray(n.logins);
    node["principals"] = json::StringArray(n.node.principals);
    out["nodes"].append(std::move(node));
  }
  return out;
}

}  // namespace

void RegisterUserNodesApi(Router& router, SessionApiDeps& deps) {
  SessionApiDeps* d = &deps;
  router.Add("GET", "/v1/nodes",
             [d](const HttpRequest& r, const PathParams&) { return ListNodes(*d, r); });
}

}  // namespace gate::ca
