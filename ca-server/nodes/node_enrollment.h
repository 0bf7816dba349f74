// NodeEnrollment: how nodes come and go (docs/node-protocol.md). An admin
// makes a join token; a node joins with it once, before it expires, and gets
// its identity, secret and host certificate; a node leaves, or an admin
// removes it. The rules of each (token lifetime and expiry, single use, whose
// labels win, undoing a join whose certificate cannot be signed) and their
// audit trail live here; the store only keeps and consumes rows, and the API
// only translates HTTP+JSON.
//
// Failures change nothing unless stated. Thread-safe as the services it is
// built on; cheap to construct per call.
#ifndef GATE_CA_NODES_NODE_ENROLLMENT_H_
#define GATE_CA_NODES_NODE_ENROLLMENT_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ca-server/audit/audit.h"
#include "ca-server/issuer/host_issuer.h"
#include "ca-server/store/store.h"
#include "gate/certificate.h"
#include "gate/ed25519.h"
#include "gate/policy.h"
#include "gate/secret.h"
#include "gate/status.h"

namespace gate::ca {

inline constexpr std::size_t kMaxNodeLabels = 64;
// Long enough to walk to the machine room, short enough that a token
// pasted into a ticket is dead by the time anyone reads it.
inline constexpr std::chrono::seconds kDefaultNodeTokenTtl{30 * 60};
inline constexpr std::chrono::seconds kMaxNodeTokenTtl{24 * 3600};

// A node join token as made for the admin: shown once, stored only hashed.
struct NewNodeToken {
  std::string token;
  std::int64_t expires_at = 0;
};

// What a node asks for when it joins. The caller has checked the fields'
// syntax (hostname, principals, labels).
struct NodeJoinRequest {
  std::string token;  // as the node sent it
  std::string hostname;
  ssh::Ed25519PublicKey host_key;
  // The host names it asks for: each must be its hostname or one the token
  // approves; the certificate carries all approved names.
  std::vector<std::string> principals;
  policy::Labels labels;  // asked for; the token's labels win
  // Where its sshd listens, canonical (CanonicalSshAddress); "" = none.
  std::string ssh_address;
  std::string source;  // the peer address, for the audit log
};

// A node that has joined: its record as stored, the secret it authenticates
// with from now on (never stored, only its hash), its host certificate.
struct JoinedNode {
  NodeRecord node;
  SecretString secret;
  ssh::Certificate host_certificate;
};

class NodeEnrollment {
 public:
  // Runs when a node leaves or is removed, before its row goes (gate-ca
  // closes its live uploads); may be empty. Its failure is logged, not
  // returned: a recording gate-ca cannot read must not keep a node from
  // leaving.
  using LeavingHook = std::function<Status(const NodeRecord& node, const std::string& source)>;

  NodeEnrollment(Store& store, HostIssuer& host_issuer, AuditLog& audit, LeavingHook leaving)
      : store_(store), host_issuer_(host_issuer), audit_(audit), leaving_(std::move(leaving)) {}

  // A join token valid for ttl from now that gives the node joining with it
  // labels (at most kMaxNodeLabels) and approves host names for it beyond
  // its hostname. InvalidArgument for a ttl outside 1 s .. kMaxNodeTokenTtl,
  // too many labels, or a malformed, repeated or excess (kMaxHostPrincipals
  // in all) host name. Audits "token.create".
  Result<NewNodeToken> CreateToken(std::chrono::seconds ttl, const policy::Labels& labels,
                                   const std::vector<std::string>& principals, std::int64_t now);

  // Joins a node. The token must be one CreateToken made, unused, and
  // unexpired at now (expires_at > now). Consuming it and registering the
  // node are one transaction, so of any number of joins racing with one
  // token exactly one succeeds. The node gets a new host UUID and secret,
  // the labels it asked for overridden by the token's, and a host
  // certificate; if that cannot be signed, the join is undone and the token
  // restored, so the node can try again.
  // The node's host names are its hostname plus the names the token
  // approves, whatever it asked for; each belongs to one node.
  // Failures: Unauthenticated for a malformed, unknown or used token;
  // FailedPrecondition for an expired one (the token stays, unusable);
  // InvalidArgument if the labels come to more than kMaxNodeLabels,
  // PermissionDenied if it asked for a name the token does not approve,
  // AlreadyExists if a name is another node's (in these three the token
  // stays usable); the signer's error. Success and every refusal are
  // audited as "node.join".
  Result<JoinedNode> Join(const NodeJoinRequest& request, std::int64_t now);

  // The node, authenticated as itself, leaves: its live sessions are closed
  // (LeavingHook) and its row deleted. NotFound if it is gone already.
  // Audits "node.leave".
  Status Leave(const NodeRecord& node, const std::string& source, std::int64_t now);

  // An admin removes the node with this host UUID, as Leave does; returns
  // the removed node. NotFound if there is none. Audits "node.delete".
  Result<NodeRecord> Remove(const std::string& host_uuid, std::int64_t now);

  // Every joined node, by hostname.
  Result<std::vector<NodeRecord>> List();

  // An admin sets the host names of the node with this host UUID: its
  // hostname plus extra. The node's next sync renews its host certificate
  // with them. NotFound; InvalidArgument for a malformed, repeated or excess
  // name; AlreadyExists if one is another node's (nothing changes). Audits
  // "node.update".
  Result<NodeRecord> SetHostNames(const std::string& host_uuid,
                                  const std::vector<std::string>& extra, std::int64_t now);

  // An admin sets where gate-ca reaches the node's sshd (the browser
  // terminal): address as CanonicalSshAddress makes it, or "" for none (no
  // browser terminal until one is set). NotFound; InvalidArgument for a
  // malformed address.
  // Audits "node.update".
  Result<NodeRecord> SetSshAddress(const std::string& host_uuid, const std::string& address,
                                   std::int64_t now);

  // The node, authenticated as itself, registers key as the one its
  // recordings' checkpoints are signed with, replacing any before.
  // NotFound if the node is gone. Audits "node.recorder_key".
  Status SetRecorderKey(const NodeRecord& node, const ssh::Ed25519PublicKey& key,
                        const std::string& source, std::int64_t now);

 private:
  void CloseLiveSessions(const NodeRecord& node, const std::string& source);

  Store& store_;
  HostIssuer& host_issuer_;
  AuditLog& audit_;
  LeavingHook leaving_;
};

}  // namespace gate::ca

#endif  // GATE_CA_NODES_NODE_ENROLLMENT_H_
