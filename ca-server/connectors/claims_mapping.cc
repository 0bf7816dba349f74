#include "ca-server/connectors/claims_mapping.h"

#include <fnmatch.h>

#include <algorithm>

#include "gate/names.h"

namespace gate::ca {
namespace {

bool Matches(const ClaimRoleMapping& rule, const Json::Value& claim) {
  if (claim.isString()) return ClaimValueMatches(rule.value, claim.asString());
  if (!claim.isArray()) return false;
  return std::any_of(claim.begin(), claim.end(), [&](const Json::Value& v) {
    return v.isString() && ClaimValueMatches(rule.value, v.asString());
  });
}

}  // namespace

bool ClaimValueMatches(const std::string& pattern, const std::string& actual) {
  if (pattern.find_first_of("*?[") == std::string::npos) return pattern == actual;
  // No FNM_PERIOD/FNM_PATHNAME: claim values are not paths, so '*' spans
  // '/' and '.' alike ("*@example.com").
  return ::fnmatch(pattern.c_str(), actual.c_str(), 0) == 0;
}

Result<SsoIdentity> MapClaims(const ConnectorConfig& connector, const Json::Value& claims) {
  const OidcConnectorConfig& o = connector.oidc;
  const Json::Value& name = claims[o.username_claim];
  if (!name.isString()) {
    return Err(InvalidArgument("the identity provider's token has no '" + o.username_claim +
                               "' claim to name the gate user (connector " + connector.name + ")"));
  }
  SsoIdentity id;
  id.user = name.asString();
  if (Status ok = ValidateUserName(id.user); !ok.ok()) {
    return Err(ok.WithContext("claim '" + o.username_claim + "'"));
  }
  for (const ClaimRoleMapping& rule : o.claims_to_roles) {
    if (!Matches(rule, claims[rule.claim])) continue;
    for (const std::string& role : rule.roles) {
      if (std::find(id.roles.begin(), id.roles.end(), role) == id.roles.end()) {
        id.roles.push_back(role);
      }
    }
  }
  if (id.roles.empty()) {
    return Err(PermissionDenied("no role is mapped to " + id.user + " by connector " +
                                connector.name + " (ask your administrator to map your groups)"));
  }
  if (!o.logins_claim.empty()) {
    const Json::Value& logins = claims[o.logins_claim];
    std::vector<std::string> values;
    if (logins.isString()) {
      values.push_back(logins.asString());
    } else if (logins.isArray()) {
      for (const Json::Value& v : logins) {
        if (!v.isString()) {
          return Err(InvalidArgument("claim '" + o.logins_claim + "' must hold strings"));
        }
        values.push_back(v.asString());
      }
    } else if (!logins.isNull()) {
      return Err(InvalidArgument("claim '" + o.logins_claim + "' must be a string or a list"));
    }
    for (const std::string& login : values) {
      if (Status ok = ValidateLogin(login); !ok.ok()) {
        return Err(ok.WithContext("claim '" + o.logins_claim + "'"));
      }
      if (std::find(id.logins.begin(), id.logins.end(), login) == id.logins.end()) {
        id.logins.push_back(login);
      }
    }
  }
  return id;
}

}  // namespace gate::ca
