// The node's half of syncing by revision (docs/node-protocol.md, "Sync"):
// gate-ca's reply parsed and checked, a delta applied to the last good
// snapshot, a full snapshot assembled from its pages. Pure functions: no
// I/O, and nothing is changed unless the whole step succeeds, so any
// error keeps the last good cache.
#ifndef GATE_SSHD_HOOKS_NODE_POLICY_SYNC_H_
#define GATE_SSHD_HOOKS_NODE_POLICY_SYNC_H_

#include <json/json.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gate/policy.h"
#include "gate/status.h"

namespace gate::node {

struct PolicyReply {
  enum class Shape { kUnchanged, kDelta, kFullPage };
  Shape shape = Shape::kUnchanged;
  std::int64_t revision = 0;
  std::int64_t base = 0;                   // kDelta
  policy::Snapshot snapshot;               // kDelta, kFullPage (strictly parsed)
  std::vector<std::string> removed_users;  // kDelta
  std::vector<std::string> removed_roles;  // kDelta
  bool has_krl = false;
  std::string krl_base64;  // as sent; validated with the whole cache
  Json::Value user_ca;     // as sent; validated with the whole cache
  std::vector<std::string> host_principals;
  std::string next;  // kFullPage: the next page's cursor, "" on the last
};

// Parses GET /v1/nodes/policy?since=… 's reply strictly: a known shape, a
// revision >= 1, a snapshot (SnapshotFromJson) for expected_host_uuid
// whenever one is carried, removed names that are valid names and not also
// listed as changed, a delta's base below its revision, a KRL on a delta.
// InvalidArgument naming what is wrong.
Result<PolicyReply> ParsePolicyReply(const Json::Value& reply, std::string_view expected_host_uuid);

// The whole snapshot a delta makes of base: base must be at delta.base
// (else FailedPrecondition: a gap), users and roles replaced or added by
// name and removed ones dropped (a removed name base does not hold is
// fine: added and removed since), locks, revoked serials, labels and the
// header taken from the delta, revision set to delta.revision. Users and
// roles stay sorted by name.
Result<policy::Snapshot> ApplyDelta(const policy::Snapshot& base, const PolicyReply& delta);

// Adds one full page to what the earlier pages assembled (start from the
// first page's snapshot, then call for every further page). A later page
// must be for the same revision and carry roles and users that sort after
// every one so far (pages come by name, roles first): InvalidArgument
// otherwise, and assembled is unchanged.
Status AppendPage(policy::Snapshot& assembled, const PolicyReply& page);

}  // namespace gate::node

#endif  // GATE_SSHD_HOOKS_NODE_POLICY_SYNC_H_
