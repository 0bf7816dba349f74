// A single sign-on login from start to finish, whoever started it (a
// browser or the CLI): start at a connector (SsoFlows + the authorization
// URL), and, when the identity provider sends the browser back, take the
// login by its state and binding, exchange the code, verify the ID token,
// map its claims to a gate user, and store that user (UpsertSsoUser).
//
// Every outcome is audited as "user.sso_login" with the connector's name and,
// once known, the provider's subject; a failure says why ("bad signature",
// "expired", "no role mapped", ...). Nothing is stored unless the whole
// login succeeded.
//
// Thread safety: every method may be called from any thread.
#ifndef GATE_CA_CONNECTORS_SSO_LOGIN_H_
#define GATE_CA_CONNECTORS_SSO_LOGIN_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "ca-server/audit/audit.h"
#include "ca-server/connectors/oidc_connector.h"
#include "ca-server/connectors/sso_flows.h"
#include "ca-server/store/store.h"
#include "gate/secret.h"
#include "gate/status.h"

namespace gate::ca {

inline constexpr std::string_view kSsoLoginAuditEvent = "user.sso_login";

struct SsoStart {
  std::string url;       // where to send the browser
  SecretString binding;  // for the starter only (cookie, CLI secret)
};

// What the provider's redirect back carries (its query parameters).
struct SsoCallback {
  std::string state;
  std::string code;
  std::string error;  // the provider's own refusal ("access_denied"), or empty
  std::string iss;    // RFC 9207's issuer parameter, or empty
};

struct SsoResult {
  UserRecord user;
  std::string connector;
  std::string context;       // what the starter stored with the login
  std::string binding_hash;  // for a kAtCollect login's later check
};

class SsoLogin {
 public:
  // Everything must outlive the object. now: unix seconds.
  SsoLogin(Connectors& connectors, SsoFlows& flows, Store& store, AuditLog& audit,
           std::function<std::int64_t()> now)
      : connectors_(connectors),
        flows_(flows),
        store_(store),
        audit_(audit),
        now_(std::move(now)) {}

  // NotFound for an unknown connector; the provider's discovery errors
  // (Unavailable when it is down: "identity provider ...: cannot reach
  // ..."); ResourceExhausted when too many logins are in progress.
  Result<SsoStart> Begin(std::string_view connector, std::string context,
                         SsoBinding binding = SsoBinding::kAtCallback);

  // Finishes the login the callback names. binding: what the starter held
  // (empty when it has none). Errors (each audited, source = req source):
  //   Unauthenticated   unknown, replayed, expired or unbound state; the
  //                     provider's error; a refused code; a token that
  //                     fails a check (the message says which)
  //   PermissionDenied  no role mapped ("no role is mapped to ...")
  //   InvalidArgument   no usable user name in the claims
  //   AlreadyExists     the name is a local user's or another identity's
  //   Unavailable       the provider cannot be reached
  // context, when not null, gets the login's context as soon as the login
  // is found, so a caller can tell its starter of a failure (the CLI waits
  // on its listener).
  Result<SsoResult> Finish(const SsoCallback& callback, std::string_view binding,
                           const std::string& source, std::string* context = nullptr);

 private:
  Status Failed(const std::string& user, const std::string& source, const std::string& detail,
                Status status);

  Connectors& connectors_;
  SsoFlows& flows_;
  Store& store_;
  AuditLog& audit_;
  const std::function<std::int64_t()> now_;
};

}  // namespace gate::ca

#endif  // GATE_CA_CONNECTORS_SSO_LOGIN_H_
