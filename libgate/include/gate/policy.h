// The policy decision: roles, node labels, locks and revocations -> what a
// user may do. Pure functions with no I/O, used by gate-ca when it issues a
// certificate and by gate-principals on the node against its local cache, so
// both sides decide the same way. Every function fails closed: anything it
// cannot prove is a denial.
#ifndef GATE_POLICY_H_
#define GATE_POLICY_H_

#include <json/json.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "gate/status.h"

namespace gate::policy {

// Node labels ("env" -> "prod"). A role's selector maps label names to a
// value or "*" (any value, but the label must exist); the selector
// {"*": "*"} matches every node. An empty selector matches no node.
using Labels = std::map<std::string, std::string>;

struct Role {
  std::string name;
  std::vector<std::string> logins;
  Labels node_labels{{"*", "*"}};
  std::chrono::seconds max_ttl{0};  // 0: no cap from this role
  bool permit_pty = true;
  bool permit_port_forwarding = true;
  bool permit_agent_forwarding = true;
  // Sessions of the role's holders on the nodes it selects run under the
  // recorder (docs/recording.md, "Turning recording on").
  bool record_sessions = false;
  // Holders may join other users' recorded sessions on the nodes it selects.
  bool join_sessions = false;
};

// A user as policy sees it. `logins` are the user's own logins, granted on
// every node (the reference's `tctl users add NAME LOGINS`); roles add more,
// each limited to the nodes its selector matches.
struct User {
  std::string name;
  std::vector<std::string> logins;
  std::vector<std::string> roles;
};

struct Lock {
  std::string user;
  std::int64_t expires_at = 0;  // unix seconds; 0 = until unlocked
  std::string message;
};

// Everything a node needs to decide logins with no network: the cache file
// gate-node sync writes and gate-principals reads (format: docs/node-protocol.md).
struct Snapshot {
  int version = 1;
  std::string cluster_name;
  std::string host_uuid;
  std::int64_t generated_at = 0;
  // gate-ca's policy revision this snapshot reflects (docs/node-protocol.md,
  // "Sync"); 0 when unknown (a cache written before revisions existed).
  std::int64_t revision = 0;
  Labels node_labels;
  std::vector<User> users;
  std::vector<Role> roles;
  std::vector<Lock> locks;
  std::vector<std::uint64_t> revoked_serials;
};

// The lock in force for user at now, if any (the first found).
const Lock* ActiveLock(const std::vector<Lock>& locks, const std::string& user, std::int64_t now);

bool LabelsMatch(const Labels& selector, const Labels& node);

// What a certificate for this user carries. Logins: the user's own plus every
// role's (deduplicated, in order); roles: the user's roles that exist;
// max_ttl: the smallest non-zero role max_ttl (0 if none); extensions: a
// permit-* extension only if every one of the user's roles permits it
// (users without roles get all three), sorted.
struct Grant {
  std::vector<std::string> logins;
  std::vector<std::string> roles;
  std::chrono::seconds max_ttl{0};
  std::vector<std::string> extensions;
};

// PermissionDenied("user alice is locked: <message>") if a lock is in force;
// FailedPrecondition if the grant has no logins. A role the user names that
// does not exist contributes nothing (fail closed).
Result<Grant> ComputeGrant(const User& user, const std::vector<Role>& roles,
                           const std::vector<Lock>& locks, std::int64_t now);

struct LoginRequest {
  std::string user;          // the certificate's key id
  std::string login;         // the OS account asked for (sshd's %u)
  std::uint64_t serial = 0;  // the certificate's serial
  std::int64_t now = 0;
};

struct Decision {
  bool allow = false;
  // Only when allow: the session must run under the recorder (MustRecord).
  bool record = false;
  std::string reason;  // why, in a few words, for the log line; never a secret
};

// Allow iff: the user is in the snapshot, not locked, the serial is not
// revoked, and the login is one of the user's own logins or a login of one
// of the user's roles whose selector matches the snapshot's node labels.
// An allowed decision carries record = MustRecord(snapshot, user).
Decision DecideLogin(const Snapshot& snapshot, const LoginRequest& request);

// The logins user may use on a node with these labels: their own, then
// those of each of their roles that exists and whose selector matches
// (deduplicated, in that order). Locks and revocations are not considered:
// this is what DecideLogin grants to a user who is neither.
std::vector<std::string> LoginsOnNode(const User& user, const std::vector<Role>& roles,
                                      const Labels& node_labels);

// True iff one of the user's roles that exists in the snapshot, and whose
// selector matches the snapshot's node labels, has record_sessions. The
// login asked for does not matter: a role that records its holders on a
// node records every session they open there, whichever login (their own,
// or one another role grants), so holding a second role cannot be used to
// step around the recording. Unknown users: false (they are denied anyway).
bool MustRecord(const Snapshot& snapshot, const std::string& user);

// True iff the user is in the snapshot, not locked at now, and one of the
// user's roles that exists and matches the snapshot's node labels has
// join_sessions (docs/recording.md, "Live join").
bool MayJoinSessions(const Snapshot& snapshot, const std::string& user, std::int64_t now);

// True iff the user is in the snapshot, not locked at now, one of the
// user's roles that exists and matches the snapshot's node labels has
// permit_port_forwarding, and none of the user's roles that exist lacks it
// (the rule that puts permit-port-forwarding in the certificate, applied to
// the node's current policy). The recorder's forwarding uses it
// (docs/recording.md, "Port forwarding").
bool MayForwardPorts(const Snapshot& snapshot, const std::string& user, std::int64_t now);

// The cache file format (JSON). Parsing is strict: unknown version, missing,
// mistyped or unknown fields are InvalidArgument naming the field (with its
// path, "users[2]: missing field 'name'"). So are names that fail
// ValidateUserName / ValidateLogin / ValidateRoleName, labels that fail
// ValidateLabels, negative times or TTLs, text with control characters,
// serials that are not canonical decimal strings, and a user or role listed
// twice. RoleFromJson is as strict: every field is required, except
// record_sessions and join_sessions, which default to false when absent (a
// cache or request from before recording existed still parses; the writer
// always includes them).
Json::Value SnapshotToJson(const Snapshot& snapshot);
Result<Snapshot> SnapshotFromJson(const Json::Value& json);
Json::Value RoleToJson(const Role& role);
Result<Role> RoleFromJson(const Json::Value& json);

// "env=prod,team=*" <-> Labels. Keys and values: [A-Za-z0-9._/-]+ or "*",
// at most kMaxLabelLength bytes; the key "*" only with the value "*".
// Spaces around items are ignored; a missing '=', an empty key, value or
// item and a duplicate key are InvalidArgument. "" is the empty set.
Result<Labels> ParseLabels(std::string_view text);
std::string FormatLabels(const Labels& labels);

inline constexpr std::size_t kMaxLabelLength = 128;

// The same rules for labels that arrive as a JSON object of strings
// ({"env": "prod"}), as in the join request and the cache file.
Status ValidateLabels(const Labels& labels);
Result<Labels> LabelsFromJson(const Json::Value& json);
Json::Value LabelsToJson(const Labels& labels);

// Role names: 1-64 of [A-Za-z0-9._@-], not starting with '-' or '.'.
Status ValidateRoleName(std::string_view name);

}  // namespace gate::policy

#endif  // GATE_POLICY_H_
