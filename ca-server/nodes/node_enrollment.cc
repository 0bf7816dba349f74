#include "ca-server/nodes/node_enrollment.h"

#include <utility>

#include "ca-server/auth/node_auth.h"
#include "ca-server/auth/tokens.h"
#include "gate/config.h"
#include "gate/duration.h"
#include "gate/log.h"

namespace gate::ca {
namespace {

constexpr char kAskForAToken[] = "ask an admin for a new one (gatectl tokens add --type=node)";

// The join rule on a stored token: it admits a node while now < expires_at.
bool Unexpired(const NodeToken& token, std::int64_t now) { return token.expires_at > now; }

std::string NodeName(const NodeRecord& node) {
  return "node " + node.host_uuid + " (" + node.hostname + ")";
}

// Extra host names as an admin gives them: valid, not repeated, and with a
// hostname still within kMaxHostPrincipals. An empty list is fine.
Status ValidateExtraHostNames(const std::vector<std::string>& names) {
  if (names.empty()) return Status::Ok();
  if (names.size() >= kMaxHostPrincipals) {
    return InvalidArgument("at most " + std::to_string(kMaxHostPrincipals - 1) +
                           " host names beside the node's hostname");
  }
  return ValidateHostPrincipals(names);
}

}  // namespace

Result<NewNodeToken> NodeEnrollment::CreateToken(std::chrono::seconds ttl,
                                                 const policy::Labels& labels,
                                                 const std::vector<std::string>& principals,
                                                 std::int64_t now) {
  if (ttl.count() <= 0 || ttl > kMaxNodeTokenTtl) {
    return Err(InvalidArgument("node token TTL must be between 1s and " +
                               FormatDuration(kMaxNodeTokenTtl)));
  }
  if (labels.size() > kMaxNodeLabels) {
    return Err(InvalidArgument("at most " + std::to_string(kMaxNodeLabels) + " labels"));
  }
  GATE_RETURN_IF_ERROR(ValidateExtraHostNames(principals));
  auto token = NewToken();
  if (!token) return Err(token.error());
  NodeToken record;
  record.token_hash = HashToken(*token);
  record.created_at = now;
  record.expires_at = now + ttl.count();
  record.labels = labels;
  record.principals = principals;
  GATE_RETURN_IF_ERROR(store_.CreateNodeToken(record));
  audit_.Record({now, "token.create", "", "admin", true,
                 "node join token valid for " + FormatDuration(ttl) + ", labels " +
                     policy::FormatLabels(labels) +
                     (principals.empty() ? "" : ", host names " + FormatHostNames(principals))});
  return NewNodeToken{*std::move(token), record.expires_at};
}

Result<JoinedNode> NodeEnrollment::Join(const NodeJoinRequest& request, std::int64_t now) {
  const Status bad_token =
      Unauthenticated(std::string("unknown or already used node join token; ") + kAskForAToken);
  const Status expired =
      FailedPrecondition(std::string("node join token expired; ") + kAskForAToken);
  auto refuse = [&](const std::string& why, Status status) -> Result<JoinedNode> {
    audit_.Record({now, "node.join", "", request.source, false, request.hostname + ": " + why});
    return Err(std::move(status));
  };
  if (!LooksLikeToken(request.token)) return refuse("malformed token", bad_token);

  auto uuid = NewHostUuid();
  if (!uuid) return Err(uuid.error());
  auto secret = NewNodeSecret();
  if (!secret) return Err(secret.error());
  JoinedNode joined;
  NodeRecord& node = joined.node;
  node.host_uuid = *uuid;
  node.hostname = request.hostname;
  node.host_key = request.host_key.AuthorizedKey();
  node.secret_hash = HashNodeSecret(secret->view());
  node.joined_at = now;
  node.ssh_address = request.ssh_address;
  joined.secret = *std::move(secret);

  // The token is consumed in the transaction that registers the node, and
  // judged on the row consumed: of two joins racing with one token, exactly
  // one gets it; a refusal rolls back and leaves the token as it was.
  NodeToken consumed;
  bool unknown = false;
  bool too_old = false;
  std::vector<std::string> unapproved;
  Status registered = store_.InTransaction([&](StoreOperations& tx) -> Status {
    auto token = tx.ConsumeNodeToken(HashToken(request.token));
    if (!token) {
      unknown = token.error().code() == Code::kNotFound;
      return token.error();
    }
    if (!Unexpired(*token, now)) {
      too_old = true;
      return expired;
    }
    // The token's labels win: the admin decided them, the node only asked.
    node.labels = request.labels;
    for (const auto& [name, value] : token->labels) node.labels[name] = value;
    if (node.labels.size() > kMaxNodeLabels) {
      return InvalidArgument("a node can have at most " + std::to_string(kMaxNodeLabels) +
                             " labels");
    }
    // gate-ca, not the node, decides the names its certificate carries.
    node.principals = HostNamesWith(request.hostname, token->principals);
    unapproved = UnapprovedHostNames(request.principals, node.principals);
    if (!unapproved.empty()) {
      return PermissionDenied(
          "host names not approved for this node: " + FormatHostNames(unapproved) +
          "; an admin approves names on the join token (gatectl tokens add --type=node "
          "--principals ...) or after the join (gatectl nodes update NODE --principals ...)");
    }
    consumed = *std::move(token);
    return tx.CreateNode(node);
  });
  if (unknown) return refuse("unknown or used token", bad_token);
  if (too_old) return refuse("expired token", expired);
  if (!unapproved.empty()) {
    return refuse("asked for unapproved host names " + FormatHostNames(unapproved), registered);
  }
  if (registered.code() == Code::kAlreadyExists) {
    return refuse(registered.message(), registered);
  }
  GATE_RETURN_IF_ERROR(registered);

  // The signer signs only for a registered node's registered host key, so
  // the node is registered first; if signing fails, the join is undone in
  // one transaction and the token restored, so the node can simply try again.
  auto cert = host_issuer_.IssueHostCertificate(node.host_uuid, request.host_key, node.principals,
                                                request.source);
  if (!cert) {
    Status undone = store_.InTransaction([&](StoreOperations& tx) -> Status {
      GATE_RETURN_IF_ERROR(tx.DeleteNode(node.host_uuid));
      return tx.CreateNodeToken(consumed);
    });
    if (!undone.ok()) {
      log::Error("node join of " + node.hostname +
                 " failed at signing and could not be undone: " + undone.ToString());
    }
    return refuse("no host certificate: " + cert.error().message(), cert.error());
  }
  audit_.Record({now, "node.join", "", request.source, true,
                 NodeName(node) + " labels " + policy::FormatLabels(node.labels) +
                     ", host certificate serial " + std::to_string(cert->spec.serial)});
  joined.host_certificate = *std::move(cert);
  return joined;
}

void NodeEnrollment::CloseLiveSessions(const NodeRecord& node, const std::string& source) {
  if (!leaving_) return;
  if (Status s = leaving_(node, source); !s.ok()) {
    log::Error(NodeName(node) +
               " left; its live sessions could not all be closed: " + s.ToString());
  }
}

Status NodeEnrollment::Leave(const NodeRecord& node, const std::string& source, std::int64_t now) {
  CloseLiveSessions(node, source);
  GATE_RETURN_IF_ERROR(store_.DeleteNode(node.host_uuid));
  audit_.Record({now, "node.leave", "", source, true, NodeName(node)});
  return Status::Ok();
}

Result<NodeRecord> NodeEnrollment::Remove(const std::string& host_uuid, std::int64_t now) {
  auto node = store_.GetNode(host_uuid);
  if (!node) return Err(node.error());
  CloseLiveSessions(*node, "admin");
  GATE_RETURN_IF_ERROR(store_.DeleteNode(host_uuid));
  audit_.Record({now, "node.delete", "", "admin", true, NodeName(*node)});
  return node;
}

Result<std::vector<NodeRecord>> NodeEnrollment::List() { return store_.ListNodes(); }

Result<NodeRecord> NodeEnrollment::SetHostNames(const std::string& host_uuid,
                                                const std::vector<std::string>& extra,
                                                std::int64_t now) {
  GATE_RETURN_IF_ERROR(ValidateExtraHostNames(extra));
  auto node = store_.GetNode(host_uuid);
  if (!node) return Err(node.error());
  const std::vector<std::string> names = HostNamesWith(node->hostname, extra);
  if (Status s = store_.SetNodePrincipals(host_uuid, names); !s.ok()) {
    if (s.code() == Code::kAlreadyExists) {
      audit_.Record({now, "node.update", "", "admin", false, NodeName(*node) + ": " + s.message()});
    }
    return Err(s);
  }
  node->principals = names;
  audit_.Record({now, "node.update", "", "admin", true,
                 NodeName(*node) + " host names " + FormatHostNames(names)});
  return node;
}

Result<NodeRecord> NodeEnrollment::SetSshAddress(const std::string& host_uuid,
                                                 const std::string& address, std::int64_t now) {
  std::string canonical;
  if (!address.empty()) {
    auto parsed = CanonicalSshAddress(address);
    if (!parsed) return Err(parsed.error());
    canonical = *std::move(parsed);
  }
  auto node = store_.GetNode(host_uuid);
  if (!node) return Err(node.error());
  GATE_RETURN_IF_ERROR(store_.SetNodeSshAddress(host_uuid, canonical));
  node->ssh_address = canonical;
  audit_.Record({now, "node.update", "", "admin", true,
                 NodeName(*node) + " ssh address " + (canonical.empty() ? "none" : canonical)});
  return node;
}

Status NodeEnrollment::SetRecorderKey(const NodeRecord& node, const ssh::Ed25519PublicKey& key,
                                      const std::string& source, std::int64_t now) {
  GATE_RETURN_IF_ERROR(store_.SetNodeRecorderKey(node.host_uuid, key.AuthorizedKey()));
  audit_.Record({now, "node.recorder_key", "", source, true,
                 NodeName(node) + " recorder key " + key.Fingerprint()});
  return Status::Ok();
}

}  // namespace gate::ca
