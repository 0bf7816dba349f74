#include "ca-server/api/node_api.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "ca-server/api/public_api.h"
#include "ca-server/api/query.h"
#include "ca-server/auth/node_auth.h"
#include "ca-server/auth/tokens.h"
#include "ca-server/nodes/node_policy.h"
#include "ca-server/nodes/node_policy_sync.h"
#include "gate/bytes.h"
#include "gate/certificate.h"
#include "gate/config.h"
#include "gate/json.h"
#include "gate/log.h"
#include "gate/names.h"
#include "gate/secret.h"

namespace gate::ca {
namespace {

Json::Value CaKeyList(const ssh::Ed25519PublicKey& key) {
  Json::Value list(Json::arrayValue);
  list.append(key.AuthorizedKey());
  return list;
}

NodePolicyContext PolicyContext(const Services& s) { return {s.config.cluster_name, s.user_ca}; }

Json::Value PolicyJson(const Services& s, const NodePolicy& policy, const NodeRecord& node) {
  Json::Value out;
  out["snapshot"] = policy::SnapshotToJson(policy.snapshot);
  out["user_ca"] = CaKeyList(s.user_ca);
  out["krl"] = Base64Encode(policy.krl);
  // The names gate-ca approved for this node's host certificate: the node
  // renews its certificate when they change.
  out["host_principals"] = json::StringArray(node.principals);
  return out;
}

// A failed node credential is logged, not audited: a node removed by an
// admin keeps trying every 30 seconds until someone runs gate-node leave,
// and the audit log is for decisions, not for that noise.
Result<NodeRecord> Authenticate(Services& s, const HttpRequest& req) {
  auto node = AuthenticateNode(s.store, req.authorization);
  if (!node && node.error().code() == Code::kUnauthenticated) {
    log::Warning("node API: " + node.error().message() + " from " + req.source + " (" +
                 RedactPath(req.path) + ")");
  }
  return node;
}

Result<ssh::Ed25519PublicKey> HostKeyField(const Json::Value& body) {
  auto line = json::GetString(body, "host_key");
  if (!line) return Err(line.error());
  auto key = ssh::Ed25519PublicKey::FromAuthorizedKey(*line);
  if (!key) return Err(InvalidArgument("host_key: " + key.error().message()));
  return key;
}

// "principals" if given, else the hostname alone: the names a node asks
// for, which gate-ca then holds to the ones it approved.
Result<std::vector<std::string>> PrincipalsField(const Json::Value& body,
                                                 const std::string& hostname) {
  if (!body.isMember("principals")) return std::vector<std::string>{hostname};
  auto principals = json::GetStringArray(body, "principals");
  if (!principals) return Err(principals.error());
  GATE_RETURN_IF_ERROR(ValidateHostPrincipals(*principals));
  return principals;
}

Result<Json::Value> Join(Services& s, const HttpRequest& req) {
  GATE_RETURN_IF_ERROR(CheckAuthRate(s, req));
  auto body = json::Parse(req.body);
  if (!body) return Err(body.error());
  auto token = json::GetString(*body, "token");
  if (!token) return Err(token.error());
  auto hostname = json::GetString(*body, "hostname");
  if (!hostname) return Err(hostname.error());
  GATE_RETURN_IF_ERROR(ValidateHostPrincipal(*hostname).WithContext("hostname"));
  auto key = HostKeyField(*body);
  if (!key) return Err(key.error());
  auto principals = PrincipalsField(*body, *hostname);
  if (!principals) return Err(principals.error());
  policy::Labels labels;
  if (body->isMember("labels")) {
    auto given = NodeLabelsFromJson((*body)["labels"]);
    if (!given) return Err(given.error().WithContext("labels"));
    labels = *std::move(given);
  }

  NodeJoinRequest request;
  if (body->isMember("ssh_address")) {
    auto text = json::GetString(*body, "ssh_address");
    if (!text) return Err(text.error());
    auto address = CanonicalSshAddress(*text);
    if (!address) return Err(address.error());
    request.ssh_address = *std::move(address);
  }
  request.token = *std::move(token);
  request.hostname = *hostname;
  request.host_key = *key;
  request.principals = *std::move(principals);
  request.labels = std::move(labels);
  request.source = req.source;
  auto joined = Enrollment(s).Join(request, s.now());
  if (!joined) return Err(joined.error());
  const NodeRecord& node = joined->node;

  Json::Value out;
  out["host_uuid"] = node.host_uuid;
  out["node_secret"] = std::string(joined->secret.view());
  out["cluster_name"] = s.config.cluster_name;
  out["labels"] = policy::LabelsToJson(node.labels);
  out["host_certificate"] = ssh::CertificateLine(joined->host_certificate, node.hostname);
  out["user_ca"] = CaKeyList(s.user_ca);
  out["host_ca"] = CaKeyList(s.host_ca);
  return out;
}

const char* ShapeName(NodePolicyReply::Shape shape) {
  switch (shape) {
    case NodePolicyReply::Shape::kUnchanged:
      return "unchanged";
    case NodePolicyReply::Shape::kDelta:
      return "delta";
    case NodePolicyReply::Shape::kFullPage:
      return "full";
  }
  return "full";
}

// docs/node-protocol.md, "Sync". The user CA and host names travel in every
// shape (a few hundred bytes): the node checks its CA file and renews its
// host certificate from them.
Json::Value RevisionReplyJson(const Services& s, const NodePolicyReply& reply,
                              const NodeRecord& node) {
  Json::Value out;
  out["shape"] = ShapeName(reply.shape);
  out["revision"] = Json::Int64(reply.revision);
  out["user_ca"] = CaKeyList(s.user_ca);
  out["host_principals"] = json::StringArray(node.principals);
  if (reply.shape == NodePolicyReply::Shape::kUnchanged) return out;
  out["snapshot"] = policy::SnapshotToJson(reply.snapshot);
  if (reply.has_krl) out["krl"] = Base64Encode(reply.krl);
  if (reply.shape == NodePolicyReply::Shape::kDelta) {
    out["base"] = Json::Int64(reply.base);
    out["removed_users"] = json::StringArray(reply.removed_users);
    out["removed_roles"] = json::StringArray(reply.removed_roles);
  }
  if (!reply.next_cursor.empty()) out["next"] = reply.next_cursor;
  return out;
}

// With "since" (and "cursor" for the next page of a full snapshot), the
// policy by revision; without, the whole policy in one reply, as gate-node
// fetched it before revisions (kept for nodes not yet upgraded).
Result<Json::Value> Policy(Services& s, const HttpRequest& req) {
  auto node = Authenticate(s, req);
  if (!node) return Err(node.error());
  const std::int64_t now = s.now();
  auto params = ParseQuery(req.query, {"since", "cursor"});
  if (!params) return Err(params.error());
  if (params->empty()) {
    auto policy = SyncNode(s.store, PolicyContext(s), *node, now);
    if (!policy) return Err(policy.error());
    return PolicyJson(s, *policy, *node);
  }
  auto since = QueryNumber(*params, "since", 0);
  if (!since) return Err(since.error());
  NodePolicyRequest request;
  request.since = static_cast<std::int64_t>(*since);
  if (auto it = params->find("cursor"); it != params->end()) request.cursor = it->second;
  auto reply = ServeNodePolicy(s.store, PolicyContext(s), *node, request, now);
  if (!reply) return Err(reply.error());
  return RevisionReplyJson(s, *reply, *node);
}

Result<Json::Value> RenewHostCert(Services& s, const HttpRequest& req) {
  auto node = Authenticate(s, req);
  if (!node) return Err(node.error());
  auto body = json::Parse(req.body);
  if (!body) return Err(body.error());
  auto key = HostKeyField(*body);
  if (!key) return Err(key.error());
  auto principals = PrincipalsField(*body, node->hostname);
  if (!principals) return Err(principals.error());
  const std::int64_t now = s.now();
  const std::string who = "node " + node->host_uuid + " (" + node->hostname + ")";
  if (auto unapproved = UnapprovedHostNames(*principals, node->principals); !unapproved.empty()) {
    const std::string names = FormatHostNames(unapproved);
    s.audit.Record({now, "node.host_cert", "", req.source, false,
                    who + " asked for unapproved host names " + names});
    return Err(PermissionDenied("host names not approved for this node: " + names +
                                "; an admin approves them with gatectl nodes update"));
  }
  if (node->principals.empty()) {
    return Err(FailedPrecondition(who + " has no host names; an admin gives it some with gatectl "
                                        "nodes update"));
  }
  auto registered = ssh::Ed25519PublicKey::FromAuthorizedKey(node->host_key);
  if (!registered) return Err(DataLoss("node " + node->host_uuid + ": stored host key is corrupt"));
  if (!(*key == *registered)) {
    s.audit.Record({now, "node.host_cert", "", req.source, false, who + ": host key differs"});
    return Err(PermissionDenied(
        "this host key is not the one registered when the node joined; a node with a new host "
        "key must leave and join again"));
  }
  // Every approved name, whatever subset was asked for: the admin decides.
  auto cert =
      s.host_issuer.IssueHostCertificate(node->host_uuid, *key, node->principals, req.source);
  if (!cert) return Err(cert.error());
  s.audit.Record({now, "node.host_cert", "", req.source, true,
                  who + ", host certificate serial " + std::to_string(cert->spec.serial)});
  Json::Value out;
  out["host_certificate"] = ssh::CertificateLine(*cert, node->hostname);
  return out;
}

// At most this many per report; gate-node sends what its spool held in
// batches that fit (the body limit is 64 KiB).
constexpr Json::ArrayIndex kMaxRefusalsPerReport = 200;
// How far back a reported refusal may be dated: a spool held while gate-ca
// was down arrives late, but the node's clock is not trusted beyond this.
constexpr std::int64_t kMaxRefusalAge = 7 * 24 * 3600;

// What a node says, made safe for one audit line: names checked, the
// reason cut and stripped of control characters.
std::string Printable(const std::string& text, std::size_t max) {
  std::string out;
  for (char c : text.substr(0, max))
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return out;
}

// Refused logins gate-principals recorded on the node (docs/node-protocol.md,
// "Refused logins"), one audit event each, dated when they happened (within
// kMaxRefusalAge, never in the future) and attributed to the node by name.
Result<Json::Value> ReportRefusals(Services& s, const HttpRequest& req) {
  auto node = Authenticate(s, req);
  if (!node) return Err(node.error());
  auto body = json::Parse(req.body);
  if (!body) return Err(body.error());
  const Json::Value& list = (*body)["refusals"];
  if (!list.isArray()) return Err(InvalidArgument("'refusals' must be an array"));
  if (list.size() > kMaxRefusalsPerReport) {
    return Err(InvalidArgument("at most " + std::to_string(kMaxRefusalsPerReport) +
                               " refusals per report"));
  }
  const std::int64_t now = s.now();
  std::vector<AuditEvent> events;
  for (const Json::Value& item : list) {
    if (!item.isObject() || !item["time"].isInt64() || !item["user"].isString() ||
        !item["login"].isString() || !item["reason"].isString() || !item["serial"].isString()) {
      return Err(InvalidArgument("each refusal needs time, user, login, reason and serial"));
    }
    const std::string user = item["user"].asString();
    const std::string login = item["login"].asString();
    AuditEvent e;
    e.time = std::clamp(item["time"].asInt64(), now - kMaxRefusalAge, now);
    e.event = "node.login";
    e.user = ValidateUserName(user).ok() ? user : "";
    e.source = node->hostname;
    e.success = false;
    e.detail = "login " + (ValidateLogin(login).ok() ? login : std::string("?")) + " refused on " +
               node->hostname +
               (e.user.empty() && !user.empty() ? " (key id not a user name)" : "") + ", serial " +
               Printable(item["serial"].asString(), 20) + ": " +
               Printable(item["reason"].asString(), 160);
    events.push_back(std::move(e));
  }
  for (const AuditEvent& e : events) s.audit.Record(e);
  Json::Value out;
  out["recorded"] = Json::UInt(events.size());
  return out;
}

Result<Json::Value> Leave(Services& s, const HttpRequest& req) {
  auto node = Authenticate(s, req);
  if (!node) return Err(node.error());
  GATE_RETURN_IF_ERROR(Enrollment(s).Leave(*node, req.source, s.now()));
  Json::Value out;
  out["host_uuid"] = node->host_uuid;
  return out;
}

// pam_gate.so's second factor (source=central). The node is the source: its
// bucket in the auth limiter bounds how fast one node, even a compromised
// one, can try codes across all users, on top of each user's lockout.
Result<Json::Value> VerifyOtp(Services& s, const HttpRequest& req) {
  auto node = Authenticate(s, req);
  if (!node) return Err(node.error());
  const std::string source = node->host_uuid;
  if (!s.auth_limiter.Allow("node " + source, std::chrono::steady_clock::now())) {
    s.audit.RecordRefusal(source, req.method + " " + RedactPath(req.path), s.now());
    return Err(ResourceExhausted("too many requests; slow down and try again in a minute"));
  }
  auto body = json::Parse(req.body);
  if (!body) return Err(body.error());
  auto user = json::GetString(*body, "user");
  if (!user) return Err(user.error());
  GATE_RETURN_IF_ERROR(ValidateUserName(*user));
  auto code = json::GetString(*body, "code");
  if (!code) return Err(code.error());
  const std::int64_t now = s.now();
  GATE_RETURN_IF_ERROR(s.authenticator.VerifySecondFactor(*user, SecretString(*code), source, now,
                                                          ClientTime(req, now)));
  Json::Value out;
  out["user"] = *user;
  out["ok"] = true;
  return out;
}

}  // namespace

Result<policy::Labels> NodeLabelsFromJson(const Json::Value& json) {
  auto labels = policy::LabelsFromJson(json);
  if (!labels) return Err(labels.error());
  if (labels->size() > kMaxNodeLabels) {
    return Err(InvalidArgument("at most " + std::to_string(kMaxNodeLabels) + " labels"));
  }
  for (const auto& [name, value] : *labels) {
    if (name == "*" || value == "*") {
      return Err(
          InvalidArgument("'*' is a wildcard for role selectors; a node's label needs a "
                          "real name and value"));
    }
  }
  return labels;
}

NodeEnrollment Enrollment(Services& services) {
  return NodeEnrollment(services.store, services.host_issuer, services.audit,
                        services.node_leaving);
}

void RegisterNodeApi(Router& router, Services& services) {
  Services* s = &services;
  constexpr TrafficClass kNode = TrafficClass::kNode;
  router.Add(
      "POST", "/v1/nodes/join",
      [s](const HttpRequest& r, const PathParams&) { return Join(*s, r); }, kNode);
  router.Add(
      "GET", "/v1/nodes/policy",
      [s](const HttpRequest& r, const PathParams&) { return Policy(*s, r); }, kNode);
  router.Add(
      "POST", "/v1/nodes/host-cert",
      [s](const HttpRequest& r, const PathParams&) { return RenewHostCert(*s, r); }, kNode);
  router.Add(
      "POST", "/v1/nodes/otp/verify",
      [s](const HttpRequest& r, const PathParams&) { return VerifyOtp(*s, r); }, kNode);
  router.Add(
      "POST", "/v1/nodes/refusals",
      [s](const HttpRequest& r, const PathParams&) { return ReportRefusals(*s, r); }, kNode);
  router.Add(
      "DELETE", "/v1/nodes/self",
      [s](const HttpRequest& r, const PathParams&) { return Leave(*s, r); }, kNode);
}

}  // namespace gate::ca
