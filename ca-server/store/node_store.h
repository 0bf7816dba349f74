// NodeStore: joined nodes. One of the aggregates Store (store.h) composes.
#ifndef GATE_CA_STORE_NODE_STORE_H_
#define GATE_CA_STORE_NODE_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "gate/policy.h"
#include "gate/status.h"

namespace gate::ca {

// A joined node.
struct NodeRecord {
  std::string host_uuid;  // the node's identity and its host certificate's key id
  std::string hostname;
  std::string host_key;  // "ssh-ed25519 AAAA..." (no comment), as registered at join
  policy::Labels labels;
  // The names its host certificate may carry, hostname first; each belongs
  // to this node alone (compared without case, as host names are).
  std::vector<std::string> principals;
  std::string secret_hash;  // hex SHA-256 of the node secret
  std::int64_t joined_at = 0;
  std::int64_t last_sync = 0;  // unix seconds of the last policy fetch; 0 = never
  // The policy revision (PolicyLogStore) that fetch brought the node to; 0 =
  // never, or a node that does not sync by revision.
  std::int64_t policy_revision = 0;
  // "ssh-ed25519 AAAA..." that signs the node's recordings' checkpoints
  // (PUT /v1/nodes/recorder-key); empty until the node registers one.
  std::string recorder_key;
  // "HOST:PORT" where gate-ca reaches the node's sshd (the browser terminal,
  // live join in the browser); "" = none, and no browser terminal reaches
  // it. Syntax checked by the caller (CanonicalSshAddress).
  std::string ssh_address;
};

class NodeStore {
 public:
  virtual ~NodeStore() = default;

  // Registers node (joined through a token the caller consumed, in the same
  // Store::InTransaction: TokenStore::ConsumeNodeToken). InvalidArgument if
  // its host UUID or secret hash is empty; AlreadyExists if the host UUID is
  // taken or one of its principals is another node's (naming it).
  virtual Status CreateNode(const NodeRecord& node) = 0;
  virtual Result<NodeRecord> GetNode(const std::string& host_uuid) = 0;  // NotFound
  virtual Result<std::vector<NodeRecord>> ListNodes() = 0;      // by hostname, then host UUID
  virtual Status DeleteNode(const std::string& host_uuid) = 0;  // NotFound
  // Records a completed sync: last_sync = now, policy_revision = revision.
  // NotFound.
  virtual Status RecordNodeSync(const std::string& host_uuid, std::int64_t now,
                                std::int64_t revision) = 0;
  // Replaces the node's principals. NotFound; AlreadyExists (naming the
  // principal) if one is another node's, changing nothing.
  virtual Status SetNodePrincipals(const std::string& host_uuid,
                                   const std::vector<std::string>& principals) = 0;
  // Replaces the node's recorder key (may be empty). NotFound.
  virtual Status SetNodeRecorderKey(const std::string& host_uuid, const std::string& key) = 0;
  // Replaces the node's SSH address (may be empty). NotFound.
  virtual Status SetNodeSshAddress(const std::string& host_uuid, const std::string& address) = 0;
};

}  // namespace gate::ca

#endif  // GATE_CA_STORE_NODE_STORE_H_
