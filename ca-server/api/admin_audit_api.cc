// Admin route for reading the audit log (GET /admin/v1/audit), gatectl
// audit's source. docs/api.md.
#include <cstdint>

#include "ca-server/api/admin_api.h"
#include "ca-server/api/query.h"
#include "gate/names.h"

namespace gate::ca {
namespace {

constexpr std::uint64_t kDefaultAuditLimit = 50;
// One reply stays a few MiB at most; older events are a narrower query away.
constexpr std::uint64_t kMaxAuditLimit = 10000;
constexpr std::size_t kMaxEventPrefix = 64;

Status CheckEventPrefix(std::string_view prefix) {
  if (prefix.size() > kMaxEventPrefix)
    return InvalidArgument("query parameter 'event' is too long");
  for (char c : prefix) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
    if (!ok) {
      return InvalidArgument(
          "query parameter 'event' may hold only a-z, 0-9, '.' and '_' (e.g. user.login)");
    }
  }
  return Status::Ok();
}

Result<AuditQuery> QueryFromRequest(const HttpRequest& req) {
  auto params = ParseQuery(req.query, {"limit", "user", "event", "since", "result"});
  if (!params) return Err(params.error());
  AuditQuery query;
  auto limit = QueryNumber(*params, "limit", kDefaultAuditLimit);
  if (!limit) return Err(limit.error());
  if (*limit < 1 || *limit > kMaxAuditLimit) {
    return Err(
        InvalidArgument("query parameter 'limit' must be 1 to " + std::to_string(kMaxAuditLimit)));
  }
  query.limit = static_cast<std::size_t>(*limit);
  if (auto it = params->find("user"); it != params->end()) {
    GATE_RETURN_IF_ERROR(ValidateUserName(it->second));
    query.user = it->second;
  }
  if (auto it = params->find("event"); it != params->end()) {
    GATE_RETURN_IF_ERROR(CheckEventPrefix(it->second));
    query.event_prefix = it->second;
  }
  auto since = QueryNumber(*params, "since", 0);
  if (!since) return Err(since.error());
  query.since = static_cast<std::int64_t>(*since);
  if (auto it = params->find("result"); it != params->end()) {
    if (it->second != "ok" && it->second != "denied") {
      return Err(InvalidArgument("query parameter 'result' must be ok or denied"));
    }
    query.success = it->second == "ok";
  }
  return query;
}

Result<Json::Value> ListAudit(Services& s, const HttpRequest& req) {
  auto query = QueryFromRequest(req);
  if (!query) return Err(query.error());
  auto events = s.store.ListAudit(*query);
  if (!events) return Err(events.error());
  Json::Value list(Json::arrayValue);
  for (const auto& e : *events) {
    Json::Value item;
    item["time"] = Json::Int64(e.time);
    item["event"] = e.event;
    item["user"] = e.user;
    item["source"] = e.source;
    item["success"] = e.success;
    item["detail"] = e.detail;
    list.append(item);
  }
  Json::Value out;
  out["events"] = list;
  return out;
}

}  // namespace

void RegisterAdminAuditApi(Router& router, Services& services) {
  Services* s = &services;
  router.Add("GET", "/admin/v1/audit",
             [s](const HttpRequest& r, const PathParams&) { return ListAudit(*s, r); });
}

}  // namespace gate::ca
