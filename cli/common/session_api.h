// gate's requests to gate-ca's recorded-sessions API (docs/api.md,
// "Recorded sessions"), signed with the key and certificate `gate login`
// left in the profile (gate/request_signing.h). Used by `gate sessions` and
// by `gate play ID`.
#ifndef GATE_CLI_COMMON_SESSION_API_H_
#define GATE_CLI_COMMON_SESSION_API_H_

#include <json/json.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "cli/common/profile.h"
#include "gate/ed25519.h"
#include "gate/http_client.h"
#include "gate/proxy_flags.h"
#include "gate/status.h"

namespace CLI {
class App;
}

namespace gate::cli {

// --proxy, --insecure and --ca-pin on sub, for a command that talks to
// gate-ca with the profile's key (SessionClient::FromProfile) but may be
// pointed at another address than the profile's.
void DefineProxyOverride(CLI::App& sub, ProxyFlags& flags);

// The filters of GET /v1/sessions; empty or absent ones are not sent.
struct SessionQuery {
  std::optional<bool> live;
  std::string user;
  std::string node;
  std::int64_t since = 0;  // unix seconds; 0: no filter
  int limit = 0;           // 0: gate-ca's default (100)
  std::string before;      // the next_before of the page before; "": the first page
};

// "?live=1&user=alice" (percent-encoded), or "" when nothing is set.
std::string SessionQueryString(const SessionQuery& query);

class SessionClient {
 public:
  // The profile in store: its key (a secret file: owner and mode checked)
  // and certificate, which must certify that key and be valid at now. The
  // proxy and TLS trust are flags.proxy's when it is set, else the
  // profile's. NotFound when not logged in; FailedPrecondition with "run
  // gate login" when the certificate has expired.
  static Result<SessionClient> FromProfile(const ProfileStore& store, const ProxyFlags& flags,
                                           std::int64_t now);

  // GET /v1/sessions: {"sessions": [...]}.
  Result<Json::Value> List(const SessionQuery& query) const;
  // GET /v1/nodes: {"cluster_name", "host_names": [every node's names],
  // "nodes": [{"name", "host_uuid", "labels", "logins", "principals"}]}
  // (the nodes the user may log into).
  Result<Json::Value> Nodes() const;
  // GET /v1/sessions/{id}.
  Result<Json::Value> Get(const std::string& id) const;
  // The whole recording (GET /v1/sessions/{id}/recording, page by page).
  // FailedPrecondition if it is larger than max_bytes.
  Result<std::string> FetchRecording(const std::string& id, std::size_t max_bytes) const;

 private:
  SessionClient(HttpClient client, std::unique_ptr<ssh::Ed25519PrivateKey> key,
                std::string certificate_blob)
      : client_(std::move(client)), key_(std::move(key)), blob_(std::move(certificate_blob)) {}
  Result<HttpRawResponse> SignedGet(const std::string& target, std::size_t max_bytes) const;
  Result<Json::Value> GetJson(const std::string& target) const;

  HttpClient client_;
  std::unique_ptr<ssh::Ed25519PrivateKey> key_;
  std::string blob_;
};

}  // namespace gate::cli

#endif  // GATE_CLI_COMMON_SESSION_API_H_
