#include "ca-server/nodes/node_policy.h"

#include <algorithm>
#include <utility>

#include "ca-server/auth/locks.h"
#include "gate/krl.h"

namespace gate::ca {

Result<NodePolicy> BuildNodePolicy(const NodePolicyInputs& in, const NodeRecord& node,
                                   std::int64_t now) {
  auto users = in.users.ListUsers();
  if (!users) return Err(users.error());
  auto roles = in.roles.ListRoles();
  if (!roles) return Err(roles.error());
  auto locks = in.roles.ListLocks();
  if (!locks) return Err(locks.error());
  auto revocations = in.certificates.ListRevocations(now);
  if (!revocations) return Err(revocations.error());

  NodePolicy out;
  policy::Snapshot& snapshot = out.snapshot;
  snapshot.cluster_name = in.cluster_name;
  snapshot.host_uuid = node.host_uuid;
  snapshot.generated_at = now;
  snapshot.node_labels = node.labels;
  for (const auto& u : *users) snapshot.users.push_back({u.name, u.logins, u.roles});
  snapshot.roles = *std::move(roles);
  snapshot.locks = LocksInForce(*locks, now);

  ssh::Krl krl;
  krl.version = revocations->version;
  krl.comment = "gate " + in.cluster_name;
  ssh::KrlCaSection section;
  section.ca = in.user_ca;
  for (const auto& r : revocations->revocations) {
    snapshot.revoked_serials.push_back(r.serial);
    section.serials.push_back(r.serial);
    krl.generated_at = std::max(krl.generated_at, static_cast<std::uint64_t>(r.revoked_at));
  }
  if (!section.serials.empty()) krl.sections.push_back(std::move(section));
  out.krl = ssh::EncodeKrl(krl);
  return out;
}

Result<NodePolicy> SyncNode(const NodePolicyInputs& in, NodeStore& nodes, const NodeRecord& node,
                            std::int64_t now) {
  auto policy = BuildNodePolicy(in, node, now);
  if (!policy) return Err(policy.error());
  GATE_RETURN_IF_ERROR(nodes.RecordNodeSync(node.host_uuid, now));
  return policy;
}

}  // namespace gate::ca
