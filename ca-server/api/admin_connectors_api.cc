// Admin route for single sign-on connectors: GET /admin/v1/connectors
// (docs/api.md). gate.yaml declares them; this lists what gate-ca runs.
#include "ca-server/api/admin_api.h"
#include "gate/json.h"

namespace gate::ca {
namespace {

Result<Json::Value> ListConnectors(const Services& s) {
  const AuthenticationConfig& auth = s.config.authentication;
  Json::Value list(Json::arrayValue);
  for (const ConnectorConfig& c : auth.connectors) {
    Json::Value item;
    item["name"] = c.name;
    item["type"] = c.type;
    item["issuer_url"] = c.oidc.issuer_url;
    item["client_id"] = c.oidc.client_id;
    item["redirect_url"] = c.oidc.redirect_url;
    item["default"] = auth.type != "local" && c.name == auth.connector_name;
    item["source"] = "gate.yaml";
    list.append(item);
  }
  Json::Value out;
  out["authentication_type"] = auth.type;
  out["connectors"] = list;
  return out;
}

}  // namespace

void RegisterAdminConnectorsApi(Router& router, Services& services) {
  Services* s = &services;
  router.Add("GET", "/admin/v1/connectors",
             [s](const HttpRequest&, const PathParams&) { return ListConnectors(*s); });
}

}  // namespace gate::ca
