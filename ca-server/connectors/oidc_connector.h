// One configured OpenID Connect connector at run time: its settings, its
// client secret (read at start from client_secret_file), and its provider
// (discovery and keys). Builds the authorization URL a login starts at, and
// finishes a login by exchanging the code at the token endpoint and
// verifying the ID token.
//
// Thread safety: every method may be called from any thread.
#ifndef GATE_CA_CONNECTORS_OIDC_CONNECTOR_H_
#define GATE_CA_CONNECTORS_OIDC_CONNECTOR_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ca-server/connectors/id_token.h"
#include "ca-server/connectors/oidc_provider.h"
#include "ca-server/connectors/sso_flows.h"
#include "gate/config.h"
#include "gate/http_transport.h"
#include "gate/secret.h"
#include "gate/status.h"

namespace gate::ca {

// A token endpoint reply larger than this is refused.
inline constexpr std::size_t kMaxTokenReplyBytes = 64 * 1024;

// application/x-www-form-urlencoded body from name/value pairs.
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);

class OidcConnector {
 public:
  OidcConnector(ConnectorConfig config, SecretString client_secret,
                std::shared_ptr<const HttpTransport> transport, std::function<std::int64_t()> now);

  // The provider's authorization endpoint with response_type=code,
  // client_id, redirect_uri, scope, state, nonce, code_challenge (S256),
  // and acr_values/prompt when configured. Errors of the provider's
  // discovery (Unavailable when it is down).
  Result<std::string> AuthorizationUrl(const StartedSsoFlow& flow);

  // Exchanges code (with the flow's PKCE verifier and the client's
  // credentials) and verifies the ID token against the flow's nonce. An
  // unknown kid makes the provider's keys be fetched again (rate limited)
  // and the token checked once more. Failures as IdTokenError; a token
  // endpoint that refuses or cannot be reached is kMalformed with an
  // Unauthenticated or Unavailable status saying so.
  tl::expected<VerifiedIdToken, IdTokenError> Exchange(std::string_view code,
                                                       const PendingSsoFlow& flow);

  const ConnectorConfig& config() const { return config_; }
  const std::string& name() const { return config_.name; }
  // The issuer the provider's discovery names (RFC 9207's `iss` parameter
  // of the callback must equal it). Empty until discovery succeeded.
  Result<std::string> Issuer();

 private:
  const ConnectorConfig config_;
  const SecretString client_secret_;
  OidcProvider provider_;
  const std::function<std::int64_t()> now_;
};

// Every connector gate.yaml declares, by name.
class Connectors {
 public:
  // Reads each connector's client_secret_file (owned by one of
  // secret_owners, no access for group or others: the libgate secret-file
  // check) and builds the connectors. The first error stops: PermissionDenied
  // or NotFound naming the file. Nothing is contacted yet.
  // secret_owners: the uids a secret file may belong to.
  static Result<std::unique_ptr<Connectors>> Load(const AuthenticationConfig& auth,
                                                  std::shared_ptr<const HttpTransport> transport,
                                                  std::function<std::int64_t()> now,
                                                  const std::vector<uid_t>& secret_owners);

  // nullptr when there is no connector of that name.
  OidcConnector* Find(std::string_view name);
  const std::vector<std::string>& names() const { return names_; }
  bool empty() const { return names_.empty(); }

 private:
  std::map<std::string, std::unique_ptr<OidcConnector>, std::less<>> by_name_;
  std::vector<std::string> names_;  // in gate.yaml's order
};

}  // namespace gate::ca

#endif  // GATE_CA_CONNECTORS_OIDC_CONNECTOR_H_
