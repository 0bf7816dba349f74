// Admin routes for roles: POST/GET /admin/v1/roles, PUT/PATCH/DELETE
// /admin/v1/roles/{name} (docs/node-protocol.md).
#include <algorithm>
#include <chrono>
#include <optional>

#include "ca-server/api/admin_api.h"
#include "ca-server/auth/role_admin.h"
#include "gate/duration.h"
#include "gate/json.h"
#include "gate/names.h"
#include "gate/policy.h"

namespace gate::ca {
namespace {

// A role shorter than this would make certificates expire mid-command.
constexpr std::chrono::seconds kMinRoleTtl{60};

constexpr std::string_view kRoleFields[] = {"name",
                                            "logins",
                                            "node_labels",
                                            "max_ttl_seconds",
                                            "permit_pty",
                                            "permit_port_forwarding",
                                            "permit_agent_forwarding",
                                            "record_sessions",
                                            "join_sessions"};

Result<bool> OptionalBool(const Json::Value& body, const char* name, bool def) {
  if (!body.isMember(name)) return def;
  if (!body[name].isBool()) {
    return Err(InvalidArgument("field '" + std::string(name) + "' must be true or false"));
  }
  return body[name].asBool();
}

// The role a request describes. Absent fields take policy::Role's defaults
// (every node, no TTL cap, every permit-* extension, no recording, no
// joining). Unknown fields are refused, so a misspelt "permit-pty" does not
// silently grant a pty.
Result<policy::Role> RoleFromRequest(const Services& s, const Json::Value& body) {
  for (const auto& member : body.getMemberNames()) {
    if (std::find(std::begin(kRoleFields), std::end(kRoleFields), member) ==
        std::end(kRoleFields)) {
      return Err(InvalidArgument("unknown role field '" + member + "'"));
    }
  }
  policy::Role role;
  auto name = json::GetString(body, "name");
  if (!name) return Err(name.error());
  GATE_RETURN_IF_ERROR(policy::ValidateRoleName(*name));
  role.name = *name;

  auto logins = json::OptionalStringArray(body, "logins");
  if (!logins) return Err(logins.error());
  for (const auto& login : *logins) {
    GATE_RETURN_IF_ERROR(ValidateLogin(login));
    if (std::find(role.logins.begin(), role.logins.end(), login) == role.logins.end()) {
      role.logins.push_back(login);
    }
  }

  if (body.isMember("node_labels")) {
    auto labels = policy::LabelsFromJson(body["node_labels"]);
    if (!labels) return Err(labels.error().WithContext("node_labels"));
    if (labels->empty()) {
      return Err(InvalidArgument(
          "node_labels must not be empty (it would match no node); use {\"*\": \"*\"} for "
          "every node"));
    }
    role.node_labels = *std::move(labels);
  }

  auto ttl = json::OptionalInt(body, "max_ttl_seconds", 0);
  if (!ttl) return Err(ttl.error());
  if (*ttl != 0 && (*ttl < kMinRoleTtl.count() || *ttl > s.config.max_cert_ttl.count())) {
    return Err(InvalidArgument("role max TTL must be between " + FormatDuration(kMinRoleTtl) +
                               " and the cluster's max_cert_ttl " +
                               FormatDuration(s.config.max_cert_ttl) + " (or 0 for no cap)"));
  }
  role.max_ttl = std::chrono::seconds(*ttl);

  struct Flag {
    const char* name;
    bool* field;
  };
  for (const Flag& flag : {Flag{"permit_pty", &role.permit_pty},
                           Flag{"permit_port_forwarding", &role.permit_port_forwarding},
                           Flag{"permit_agent_forwarding", &role.permit_agent_forwarding}}) {
    auto value = OptionalBool(body, flag.name, true);
    if (!value) return Err(value.error());
    *flag.field = *value;
  }
  for (const Flag& flag : {Flag{"record_sessions", &role.record_sessions},
                           Flag{"join_sessions", &role.join_sessions}}) {
    auto value = OptionalBool(body, flag.name, false);
    if (!value) return Err(value.error());
    *flag.field = *value;
  }
  return role;
}

RoleAdmin Admin(Services& s) { return RoleAdmin(s.store, s.audit); }

Result<Json::Value> AddRole(Services& s, const HttpRequest& req) {
  auto body = json::Parse(req.body);
  if (!body) return Err(body.error());
  auto role = RoleFromRequest(s, *body);
  if (!role) return Err(role.error());
  GATE_RETURN_IF_ERROR(Admin(s).Create(*role, s.now()));
  return policy::RoleToJson(*role);
}

Result<Json::Value> ReplaceRole(Services& s, const HttpRequest& req, const std::string& name) {
  GATE_RETURN_IF_ERROR(policy::ValidateRoleName(name));
  auto body = json::Parse(req.body);
  if (!body) return Err(body.error());
  if (!body->isMember("name")) (*body)["name"] = name;
  auto role = RoleFromRequest(s, *body);
  if (!role) return Err(role.error());
  if (role->name != name) {
    return Err(InvalidArgument("the role name in the body differs from the one in the path"));
  }
  GATE_RETURN_IF_ERROR(Admin(s).Replace(*role, s.now()));
  return policy::RoleToJson(*role);
}

// PATCH: the fields given replace the stored ones, the others stay (gatectl
// roles update). The merged document goes through the same validation as a
// new role. The merge runs inside the store's transaction, so two PATCHes of
// one role cannot lose each other's fields.
Result<Json::Value> UpdateRole(Services& s, const HttpRequest& req, const std::string& name) {
  GATE_RETURN_IF_ERROR(policy::ValidateRoleName(name));
  auto body = json::Parse(req.body);
  if (!body) return Err(body.error());
  if (!body->isObject()) return Err(InvalidArgument("expected a JSON object"));
  if (body->isMember("name") && (*body)["name"] != Json::Value(name)) {
    return Err(InvalidArgument("the role name in the body differs from the one in the path"));
  }
  auto role = Admin(s).Modify(
      name,
      [&](const policy::Role& stored) {
        Json::Value merged = policy::RoleToJson(stored);
        for (const auto& member : body->getMemberNames()) merged[member] = (*body)[member];
        return RoleFromRequest(s, merged);
      },
      s.now());
  if (!role) return Err(role.error());
  return policy::RoleToJson(*role);
}

Result<Json::Value> ListRoles(Services& s) {
  auto roles = s.store.ListRoles();
  if (!roles) return Err(roles.error());
  Json::Value list(Json::arrayValue);
  for (const auto& role : *roles) list.append(policy::RoleToJson(role));
  Json::Value out;
  out["roles"] = list;
  return out;
}

Result<Json::Value> RemoveRole(Services& s, const std::string& name) {
  GATE_RETURN_IF_ERROR(policy::ValidateRoleName(name));
  Status removed = Admin(s).Remove(name, s.now());
  if (removed.code() == Code::kFailedPrecondition) {
    // Refused rather than silently taking access away from those users: an
    // admin who wants that says so per user.
    return Err(FailedPrecondition(removed.message() +
                                  "; take it away from them first (gatectl users update NAME "
                                  "--roles ...)"));
  }
  GATE_RETURN_IF_ERROR(removed);
  Json::Value out;
  out["role"] = name;
  return out;
}

}  // namespace

void RegisterAdminRolesApi(Router& router, Services& services) {
  Services* s = &services;
  router.Add("POST", "/admin/v1/roles",
             [s](const HttpRequest& r, const PathParams&) { return AddRole(*s, r); });
  router.Add("GET", "/admin/v1/roles",
             [s](const HttpRequest&, const PathParams&) { return ListRoles(*s); });
  router.Add("PUT", "/admin/v1/roles/{name}", [s](const HttpRequest& r, const PathParams& p) {
    return ReplaceRole(*s, r, p.at("name"));
  });
  router.Add("PATCH", "/admin/v1/roles/{name}", [s](const HttpRequest& r, const PathParams& p) {
    return UpdateRole(*s, r, p.at("name"));
  });
  router.Add("DELETE", "/admin/v1/roles/{name}",
             [s](const HttpRequest&, const PathParams& p) { return RemoveRole(*s, p.at("name")); });
}

}  // namespace gate::ca
