#include "ca-server/connectors/sso_login.h"

#include <utility>

#include "ca-server/connectors/claims_mapping.h"
#include "gate/log.h"

namespace gate::ca {

Status SsoLogin::Failed(const std::string& user, const std::string& source,
                        const std::string& detail, Status status) {
  audit_.Record({now_(), std::string(kSsoLoginAuditEvent), user, source, false, detail});
  return status;
}

Result<SsoStart> SsoLogin::Begin(std::string_view connector_name, std::string context,
                                 SsoBinding binding) {
  OidcConnector* connector = connectors_.Find(connector_name);
  if (connector == nullptr) {
    return Err(NotFound("no connector named " + std::string(connector_name)));
  }
  auto flow = flows_.Begin(connector->name(), std::move(context), now_(), binding);
  if (!flow) return Err(flow.error());
  auto url = connector->AuthorizationUrl(*flow);
  if (!url) {
    // The login can never finish: do not leave it pending.
    if (auto dropped = flows_.Take(flow->state, flow->binding.view(), now_()); !dropped) {
      log::Warning("sso: could not drop a login that cannot start: " + dropped.error().message());
    }
    return Err(url.error());
  }
  return SsoStart{*std::move(url), std::move(flow->binding)};
}

Result<SsoResult> SsoLogin::Finish(const SsoCallback& cb, std::string_view binding,
                                   const std::string& source, std::string* context) {
  auto flow = flows_.Take(cb.state, binding, now_());
  if (!flow) {
    return Err(Failed("", source, "unknown, replayed, expired or unbound state", flow.error()));
  }
  if (context != nullptr) *context = flow->context;
  const std::string where = "connector " + flow->connector;
  OidcConnector* connector = connectors_.Find(flow->connector);
  if (connector == nullptr) {
    return Err(Failed("", source, where + ": gone", NotFound("no connector " + flow->connector)));
  }
  if (!cb.error.empty()) {
    return Err(
        Failed("", source, where + ": the identity provider refused: " + cb.error,
               Unauthenticated("the identity provider refused the login (" + cb.error + ")")));
  }
  if (!cb.iss.empty()) {
    // RFC 9207: an answer naming another issuer is a mix-up attack.
    auto issuer = connector->Issuer();
    if (!issuer)
      return Err(Failed("", source, where + ": " + issuer.error().message(), issuer.error()));
    if (cb.iss != *issuer) {
      return Err(Failed("", source, where + ": callback from another issuer",
                        Unauthenticated("the login answer came from another identity provider")));
    }
  }
  if (cb.code.empty()) {
    return Err(Failed("", source, where + ": no code", Unauthenticated("no login code")));
  }
  auto token = connector->Exchange(cb.code, *flow);
  if (!token) {
    const IdTokenError& e = token.error();
    return Err(Failed(
        "", source,
        where + ": " + std::string(IdTokenProblemName(e.problem)) + ": " + e.status.message(),
        e.status));
  }
  const std::string subject = where + ", subject " + token->subject;
  auto identity = MapClaims(connector->config(), token->claims);
  if (!identity) {
    return Err(Failed("", source, subject + ": " + identity.error().message(), identity.error()));
  }
  UserRecord user;
  user.name = identity->user;
  user.created_at = now_();
  user.connector = connector->name();
  user.idp_subject = token->subject;
  user.roles = identity->roles;
  user.logins = identity->logins;
  auto stored = store_.UpsertSsoUser(user);
  if (!stored) {
    return Err(
        Failed(user.name, source, subject + ": " + stored.error().message(), stored.error()));
  }
  std::string roles;
  for (const auto& r : stored->roles) roles += (roles.empty() ? "" : ",") + r;
  audit_.Record({now_(), std::string(kSsoLoginAuditEvent), stored->name, source, true,
                 subject + ", roles " + roles});
  return SsoResult{*std::move(stored), connector->name(), std::move(flow->context),
                   std::move(flow->binding_hash)};
}

}  // namespace gate::ca
