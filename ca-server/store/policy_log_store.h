// PolicyLogStore: gate-ca's policy revision and the change log nodes sync
// from (docs/node-protocol.md, "Sync"). One of the aggregates Store
// (store.h) composes.
//
// The revision is a number that increases, in the same transaction, with
// every change to what a node's policy is built from: a user's existence,
// logins or roles; a role; a lock; a revocation; a node's labels or host
// names. The log says, for each thing that changed, the revision of its
// last change, so "what changed since N" is the set of entries with a
// revision above N; the current rows (or their absence) are the delta.
// Backends must bump the revision in the very transaction that changes
// those rows, whichever method (or a tool writing rows directly) makes it.
#ifndef GATE_CA_STORE_POLICY_LOG_STORE_H_
#define GATE_CA_STORE_POLICY_LOG_STORE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "gate/status.h"

namespace gate::ca {

// What a change-log entry names.
inline constexpr char kPolicyChangeUser[] = "user";                // name: the user
inline constexpr char kPolicyChangeRole[] = "role";                // name: the role
inline constexpr char kPolicyChangeLocks[] = "locks";              // name: "" (locks travel whole)
inline constexpr char kPolicyChangeRevocations[] = "revocations";  // name: ""
inline constexpr char kPolicyChangeNode[] = "node";                // name: the node's host UUID

struct PolicyChange {
  std::int64_t revision = 0;  // of the entry's last change
  std::string kind;           // kPolicyChange*
  std::string name;
};

struct PolicyRevision {
  std::int64_t revision = 0;  // the current revision; >= 1
  // The oldest revision the log still answers "what changed since" for:
  // for since >= oldest the log is complete, for anything older it was
  // pruned (the caller sends a full snapshot).
  std::int64_t oldest = 0;
};

class PolicyLogStore {
 public:
  virtual ~PolicyLogStore() = default;

  virtual Result<PolicyRevision> GetPolicyRevision() = 0;
  // The entries with revision > since, by revision, at most limit of them
  // (ask for one more than you can use to learn there are more).
  virtual Result<std::vector<PolicyChange>> ListPolicyChanges(std::int64_t since,
                                                              std::size_t limit) = 0;
  // Forgets the entries of every revision older than the newest `keep`
  // (revision - keep and before) and raises oldest to match; the revision
  // itself does not move. InvalidArgument for keep < 1.
  virtual Status PrunePolicyChanges(std::int64_t keep) = 0;
};

}  // namespace gate::ca

#endif  // GATE_CA_STORE_POLICY_LOG_STORE_H_
