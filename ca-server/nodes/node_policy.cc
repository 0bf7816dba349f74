#include "ca-server/nodes/node_policy.h"

#include <algorithm>
#include <utility>

#include "ca-server/auth/locks.h"
#include "gate/krl.h"

namespace gate::ca {

Result<NodePolicy> BuildNodePolicy(Store& store, const NodePolicyContext& context,
                                   const NodeRecord& node, std::int64_t now) {
  std::vector<UserRecord> users;
  std::vector<policy::Role> roles;
  std::vector<LockRecord> locks;
  RevocationList revocations;
  PolicyRevision revision;
  GATE_RETURN_IF_ERROR(store.InReadTransaction([&](StoreOperations& snapshot) -> Status {
    auto rev = snapshot.GetPolicyRevision();
    if (!rev) return rev.error();
    revision = *rev;
    auto u = snapshot.ListUsers();
    if (!u) return u.error();
    auto r = snapshot.ListRoles();
    if (!r) return r.error();
    auto l = snapshot.ListLocks();
    if (!l) return l.error();
    auto v = snapshot.ListRevocations(now);
    if (!v) return v.error();
    users = *std::move(u);
    roles = *std::move(r);
    locks = *std::move(l);
    revocations = *std::move(v);
    return Status::Ok();
  }));

  NodePolicy out;
  policy::Snapshot& snapshot = out.snapshot;
  snapshot.cluster_name = context.cluster_name;
  snapshot.host_uuid = node.host_uuid;
  snapshot.generated_at = now;
  snapshot.revision = revision.revision;
  snapshot.node_labels = node.labels;
  for (const auto& u : users) snapshot.users.push_back({u.name, u.logins, u.roles});
  snapshot.roles = std::move(roles);
  snapshot.locks = LocksInForce(locks, now);
  out.krl = EncodeNodeKrl(context, revocations, snapshot.revoked_serials);
  return out;
}

std::string EncodeNodeKrl(const NodePolicyContext& context, const RevocationList& revocations,
                          std::vector<std::uint64_t>& serials) {
  ssh::Krl krl;
  krl.version = revocations.version;
  krl.comment = "gate " + context.cluster_name;
  ssh::KrlCaSection section;
  section.ca = context.user_ca;
  for (const auto& r : revocations.revocations) {
    serials.push_back(r.serial);
    section.serials.push_back(r.serial);
    krl.generated_at = std::max(krl.generated_at, static_cast<std::uint64_t>(r.revoked_at));
  }
  if (!section.serials.empty()) krl.sections.push_back(std::move(section));
  return ssh::EncodeKrl(krl);
}

Result<NodePolicy> SyncNode(Store& store, const NodePolicyContext& context, const NodeRecord& node,
                            std::int64_t now) {
  auto policy = BuildNodePolicy(store, context, node, now);
  if (!policy) return Err(policy.error());
  GATE_RETURN_IF_ERROR(store.RecordNodeSync(node.host_uuid, now, policy->snapshot.revision));
  return policy;
}

}  // namespace gate::ca
