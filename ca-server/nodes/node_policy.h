// What a joined node fetches on every sync (GET /v1/nodes/policy): the
// policy snapshot gate-principals decides logins from, and the KRL sshd
// checks certificates against (docs/node-protocol.md).
#ifndef GATE_CA_NODES_NODE_POLICY_H_
#define GATE_CA_NODES_NODE_POLICY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ca-server/store/store.h"
#include "gate/ed25519.h"
#include "gate/policy.h"
#include "gate/status.h"

namespace gate::ca {

struct NodePolicy {
  policy::Snapshot snapshot;
  std::string krl;  // ssh::EncodeKrl bytes
};

// What a policy says about the cluster itself.
struct NodePolicyContext {
  std::string cluster_name;
  ssh::Ed25519PublicKey user_ca;
};

// Builds node's policy at now from one snapshot of the store (one
// Store::InReadTransaction): every user and role, the locks in force
// (policy::ActiveLock; expired locks decide nothing, so they are left out)
// and the user certificates revoked and not yet expired, all as of one
// committed state, so a node never gets a policy that mixes two (a user
// added with a role deleted in between). The KRL is dated by its newest
// revocation, not by now: the same revocations give the same bytes, so
// nodes rewrite (and sshd re-reads) the file only when something changed.
// snapshot.revision is that state's policy revision (PolicyLogStore).
// Store errors as they are; nothing is written.
Result<NodePolicy> BuildNodePolicy(Store& store, const NodePolicyContext& context,
                                   const NodeRecord& node, std::int64_t now);

// The KRL of revocations (for context's user CA), dated by its newest
// revocation; appends each revoked serial to serials.
std::string EncodeNodeKrl(const NodePolicyContext& context, const RevocationList& revocations,
                          std::vector<std::uint64_t>& serials);

// A node's sync in one reply (GET /v1/nodes/policy without "since", as
// gate-node did before syncing by revision): its policy at now
// (BuildNodePolicy), then now and the policy's revision recorded as its last
// sync (NodeStore::RecordNodeSync), so `gatectl nodes ls` shows only syncs
// that got their answer. NotFound if the node left meanwhile.
Result<NodePolicy> SyncNode(Store& store, const NodePolicyContext& context, const NodeRecord& node,
                            std::int64_t now);

}  // namespace gate::ca

#endif  // GATE_CA_NODES_NODE_POLICY_H_
