// Serving a node's policy by revision (GET /v1/nodes/policy?since=R,
// docs/node-protocol.md "Sync"): one of three answers, each bounded in size
// whatever the cluster's:
//  - unchanged: the node's revision is current; no policy at all;
//  - delta: what changed since the node's revision (users and roles whose
//    current state it gets, those removed by name) plus, whole, what is
//    bounded by certificate lifetime (locks in force, revoked serials, the
//    KRL) and the node's own labels;
//  - full page: the policy in pages (roles, then users, by name; at most
//    kNodePolicyPageSize entries each) with a cursor to the next, when the
//    node has no revision, one older than the change log keeps, one ahead
//    of gate-ca's (a database restored from a backup), or more changes
//    than a delta carries. The first page carries the locks, serials, KRL
//    and labels.
#ifndef GATE_CA_NODES_NODE_POLICY_SYNC_H_
#define GATE_CA_NODES_NODE_POLICY_SYNC_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ca-server/nodes/node_policy.h"
#include "ca-server/store/store.h"
#include "gate/policy.h"
#include "gate/status.h"

namespace gate::ca {

// Entries (roles and users together) per full page: ~100 KB of JSON for
// typical users, far below the node's 4 MiB reply limit.
inline constexpr std::size_t kNodePolicyPageSize = 1000;
// A delta names at most this many changed users and roles; past it the
// node is sent the full snapshot, which costs about as much.
inline constexpr std::size_t kMaxNodePolicyDelta = 1000;
// How many revisions of the change log are kept; a node further behind
// gets the full snapshot. Pruned when the log reaches twice this.
inline constexpr std::int64_t kPolicyLogRevisions = 100000;

struct NodePolicyRequest {
  std::int64_t since = 0;  // the revision the node has; 0 = none
  std::string cursor;      // a full page's next_cursor; "" = not paging
};

struct NodePolicyReply {
  enum class Shape { kUnchanged, kDelta, kFullPage };
  Shape shape = Shape::kUnchanged;
  // The revision the node is at once it applied this reply (for a full
  // page: once it has every page).
  std::int64_t revision = 0;
  std::int64_t base = 0;  // kDelta: the revision the delta applies to
  // kDelta: the changed users and roles, locks, revoked serials and labels.
  // kFullPage: this page's roles and users; on the first page also the
  // locks, revoked serials and labels. Header fields always.
  policy::Snapshot snapshot;
  std::vector<std::string> removed_users;  // kDelta
  std::vector<std::string> removed_roles;  // kDelta
  bool has_krl = false;                    // kDelta and the first page
  std::string krl;
  std::string next_cursor;  // kFullPage: "" on the last page
};

// Answers request for node at now, from one read transaction of the store.
// A completed answer (unchanged, delta, the last page) is recorded as the
// node's sync (NodeStore::RecordNodeSync with the reply's revision), and
// the change log is pruned when it is due. InvalidArgument for a malformed
// cursor or a negative since; store errors as they are.
Result<NodePolicyReply> ServeNodePolicy(Store& store, const NodePolicyContext& context,
                                        const NodeRecord& node, const NodePolicyRequest& request,
                                        std::int64_t now);

}  // namespace gate::ca

#endif  // GATE_CA_NODES_NODE_POLICY_SYNC_H_
