// node.json: what gate-node join learned and did, in the node's data dir
// (root, 0600; it holds the node's secret). gate-node sync reads it for the
// proxy and the credentials, gate-node leave to put the host back as it was,
// and pam_gate.so (source=central) to verify OTP codes through gate-ca with
// the node's credentials (docs/node-protocol.md).
#ifndef GATE_NODE_STATE_H_
#define GATE_NODE_STATE_H_

#include <json/json.h>

#include <string>
#include <vector>

#include "gate/http_client.h"
#include "gate/policy.h"
#include "gate/secret.h"
#include "gate/status.h"

namespace gate {

inline constexpr char kNodeStateFile[] = "node.json";

struct NodeState {
  std::string proxy;  // host:port, normalized
  bool insecure = false;
  std::string ca_pin;  // "sha256:<hex>" or empty
  std::string host_uuid;
  SecretString node_secret;
  std::string cluster_name;
  policy::Labels labels;                // as gate-ca recorded them
  std::vector<std::string> principals;  // asked for at join; gate-ca decides the certificate's

  // The node operator's stale-cache rule (gate-node join --stale-cache,
  // --max-cache-age), kept across re-joins and written into the sshd
  // drop-in for gate-principals. 0: the default age (10 minutes).
  bool deny_stale_cache = false;
  std::int64_t max_cache_age_seconds = 0;

  // What join changed beyond its own files, so leave can undo exactly that.
  std::string created_principals_user;  // useradd made this user; leave runs userdel
  bool created_cache_group = false;     // groupadd made gate-cache; leave runs groupdel
  bool created_data_dir = false;        // leave removes the data dir itself
  bool host_cert_backed_up = false;     // a host cert existed; saved in pre-join/
  bool drop_in_backed_up = false;       // a 50-gate.conf existed; saved in pre-join/

  // "<uuid>.<secret>": the bearer token of every request after the join.
  SecretString BearerToken() const;
};

// node.json's format: {"version": 1, "proxy", "insecure", "ca_pin",
// "host_uuid", "node_secret", "cluster_name", "labels": {}, "principals": [],
// "stale_cache": "allow"|"deny", "max_cache_age_seconds": N,
// "join": {"created_principals_user": "<name or empty>", "created_cache_group",
// "created_data_dir", "host_cert_backed_up", "drop_in_backed_up"}}; the
// stale-cache fields and created_cache_group are optional (allow, 0, false). FromJson is strict
// about types and requires proxy, host_uuid and node_secret (InvalidArgument).
Json::Value NodeStateToJson(const NodeState& state);
Result<NodeState> NodeStateFromJson(const Json::Value& json);

// Reads path as a secret file (owned by this euid, mode 0600 or stricter,
// not a symlink). NotFound passes through (the node is not joined);
// a file that does not parse is DataLoss.
Result<NodeState> ReadNodeState(const std::string& path);

// Writes path atomically, mode 0600.
Status WriteNodeState(const std::string& path, const NodeState& state);

// Options for the node's authenticated requests after the join: base URL
// https://<proxy>, the TLS trust recorded in node.json (ca_pin, or insecure),
// and the node's bearer token. Callers set the timeout they need.
HttpClientOptions NodeClientOptions(const NodeState& state);

}  // namespace gate

#endif  // GATE_NODE_STATE_H_
