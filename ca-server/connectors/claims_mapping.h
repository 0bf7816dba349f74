// From an identity provider's verified claims to a gate identity: the user
// name (username_claim), the roles (claims_to_roles), and the user's own
// logins (logins_claim). Pure: no I/O, so it can be tested and fuzzed alone.
//
// Thread safety: pure function; safe from any thread.
#ifndef GATE_CA_CONNECTORS_CLAIMS_MAPPING_H_
#define GATE_CA_CONNECTORS_CLAIMS_MAPPING_H_

#include <json/json.h>

#include <string>
#include <vector>

#include "gate/connector_config.h"
#include "gate/status.h"

namespace gate::ca {

struct SsoIdentity {
  std::string user;                 // a valid gate user name
  std::vector<std::string> roles;   // each once, in rule order
  std::vector<std::string> logins;  // the user's own (the `logins` trait)
};

// The identity claims maps to under connector. A rule matches when its claim
// is a string equal to (or, for a value with *, ? or [, matching as an
// fnmatch glob) the rule's value, or a list with such an element. Errors:
//   InvalidArgument     username_claim absent, not a string, or not a valid
//                       gate user name; a logins_claim value that is not a
//                       valid login (the message names the claim)
//   PermissionDenied    no rule matched: "no role is mapped to <user> by
//                       connector <name>"
Result<SsoIdentity> MapClaims(const ConnectorConfig& connector, const Json::Value& claims);

// One rule's test, for the tests and the docs' examples: does claim value
// `actual` match rule value `pattern`?
bool ClaimValueMatches(const std::string& pattern, const std::string& actual);

}  // namespace gate::ca

#endif  // GATE_CA_CONNECTORS_CLAIMS_MAPPING_H_
