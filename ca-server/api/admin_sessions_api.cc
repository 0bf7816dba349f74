// Admin route for retention: POST /admin/v1/sessions/prune (gatectl sessions
// prune). docs/api.md; the logic is sessions/session_retention.h.
#include <cstdint>

#include "ca-server/api/session_api.h"
#include "ca-server/sessions/session_retention.h"
#include "gate/json.h"

namespace gate::ca {
namespace {

// Sessions one call removes; the reply says when there are more.
constexpr std::size_t kPruneBatch = 1000;

Result<Json::Value> Prune(SessionApiDeps& d, const HttpRequest& req) {
  auto body = json::Parse(req.body);
  if (!body) return Err(body.error());
  for (const auto& name : body->getMemberNames()) {
    if (name != "older_than_seconds" && name != "dry_run") {
      return Err(InvalidArgument("unknown field '" + name + "'"));
    }
  }
  auto older = json::GetInt(*body, "older_than_seconds");
  if (!older) return Err(older.error());
  if (*older < 0) return Err(InvalidArgument("older_than_seconds must not be negative"));
  bool dry_run = false;
  if (body->isMember("dry_run")) {
    if (!(*body)["dry_run"].isBool()) return Err(InvalidArgument("dry_run must be a boolean"));
    dry_run = (*body)["dry_run"].asBool();
  }
  const std::int64_t now = d.services.now();
  const std::int64_t before = now - *older;
  auto pruned = PruneSessions(d.services.store, d.files, d.services.audit, before, kPruneBatch,
                              dry_run, now, "admin");
  if (!pruned) return Err(pruned.error());
  Json::Value list(Json::arrayValue);
  for (const auto& s : pruned->sessions) {
    Json::Value item;
    item["id"] = s.id;
    item["user"] = s.user;
    item["login"] = s.login;
    item["node_name"] = s.node_name;
    item["completed_at"] = Json::Int64(s.completed_at);
    item["size"] = Json::Int64(s.size);
    list.append(item);
  }
  Json::Value out;
  out["sessions"] = list;
  out["bytes"] = Json::UInt64(pruned->bytes);
  out["before"] = Json::Int64(before);
  out["dry_run"] = dry_run;
  out["more"] = pruned->more;
  return out;
}

}  // namespace

void RegisterAdminSessionsApi(Router& router, SessionApiDeps& deps) {
  SessionApiDeps* d = &deps;
  router.Add("POST", "/admin/v1/sessions/prune",
             [d](const HttpRequest& r, const PathParams&) { return Prune(*d, r); });
}

}  // namespace gate::ca
