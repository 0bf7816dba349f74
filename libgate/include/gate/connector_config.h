// Single sign-on connectors as gate.yaml declares them
// (auth_service.authentication.connectors; docs/connectors.md). Parsed and
// checked by ParseConfig (gate/config.h); gate-ca's connectors
// (ca-server/connectors/) act on them.
#ifndef GATE_CONNECTOR_CONFIG_H_
#define GATE_CONNECTOR_CONFIG_H_

#include <string>
#include <vector>

namespace gate {

// One claims_to_roles rule: an ID token whose claim `claim` (a string, or a
// list of strings any one of which may match) equals `value`, or matches it
// as a shell glob (fnmatch: *, ?, [...]), is given `roles`.
struct ClaimRoleMapping {
  std::string claim;
  std::string value;
  std::vector<std::string> roles;
};

// How gate-ca proves itself at the IdP's token endpoint (RFC 6749 2.3.1).
enum class TokenEndpointAuth { kClientSecretBasic, kClientSecretPost };

// An OpenID Connect identity provider.
struct OidcConnectorConfig {
  // https URL; discovery reads <issuer_url>/.well-known/openid-configuration,
  // and the ID token's `iss` must equal it exactly.
  std::string issuer_url;
  std::string client_id;
  // The client secret's file: read at start, owned by root (or gate-ca's
  // user), mode 0600 or stricter. The secret itself is never in gate.yaml.
  std::string client_secret_file;
  // Where the IdP sends the browser back: https://<public_addr>/v1/sso/oidc/callback.
  std::string redirect_url;
  std::vector<std::string> scope = {"openid", "email", "profile"};  // "openid" always included
  std::string username_claim = "email";  // the claim that names the gate user
  // The claim whose value(s) become the user's own logins (its `logins`
  // trait); empty: none, the roles' logins only.
  std::string logins_claim;
  std::vector<ClaimRoleMapping> claims_to_roles;
  // When not empty: sent as acr_values, and the ID token's `acr` must be one.
  std::vector<std::string> acr_values;
  std::string prompt;  // sent as is when set (e.g. select_account, login)
  // PEM bundle that verifies the IdP's TLS certificate instead of the
  // system's (a private CA). TLS is verified either way.
  std::string ca_file;
  TokenEndpointAuth token_endpoint_auth = TokenEndpointAuth::kClientSecretBasic;
};

struct ConnectorConfig {
  std::string name;  // [a-z0-9-], unique; the CLI's --auth=NAME
  std::string type;  // "oidc" (github and saml: later)
  OidcConnectorConfig oidc;
};

}  // namespace gate

#endif  // GATE_CONNECTOR_CONFIG_H_
