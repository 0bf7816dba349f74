// Admin routes for nodes: node join tokens (POST /admin/v1/tokens), the node
// list (GET /admin/v1/nodes, DELETE /admin/v1/nodes/{host_uuid}), a node's
// host names (POST /admin/v1/nodes/{host_uuid}) and certificate revocation
// (POST /admin/v1/certs/revoke). docs/node-protocol.md.
#include <chrono>
#include <limits>
#include <optional>

#include "ca-server/api/admin_api.h"
#include "ca-server/api/node_api.h"
#include "ca-server/auth/node_auth.h"
#include "ca-server/issuer/revocation.h"
#include "gate/config.h"
#include "gate/duration.h"
#include "gate/json.h"
#include "gate/names.h"
#include "gate/policy.h"

namespace gate::ca {
namespace {

// How many serials one audit line names before it only counts them.
constexpr std::size_t kAuditedSerials = 20;

// An optional list of host names (syntax checked by NodeEnrollment).
Result<std::vector<std::string>> HostNamesField(const Json::Value& body, const char* field) {
  if (!body.isMember(field)) return std::vector<std::string>{};
  return json::GetStringArray(body, field);
}

Result<Json::Value> AddToken(Services& s, const HttpRequest& req) {
  auto body = json::Parse(req.body);
  if (!body) return Err(body.error());
  auto type = json::GetString(*body, "type");
  if (!type) return Err(type.error());
  if (*type != "node") return Err(InvalidArgument("token type must be 'node'"));
  auto ttl = json::OptionalInt(*body, "ttl_seconds", kDefaultNodeTokenTtl.count());
  if (!ttl) return Err(ttl.error());
  policy::Labels labels;
  if (body->isMember("labels")) {
    auto given = NodeLabelsFromJson((*body)["labels"]);
    if (!given) return Err(given.error().WithContext("labels"));
    labels = *std::move(given);
  }
  auto principals = HostNamesField(*body, "principals");
  if (!principals) return Err(principals.error());
  auto token = Enrollment(s).CreateToken(std::chrono::seconds(*ttl), labels, *principals, s.now());
  if (!token) return Err(token.error());

  Json::Value out;
  out["token"] = token->token;
  out["type"] = "node";
  out["ttl_seconds"] = Json::Int64(*ttl);
  out["expires_at"] = Json::Int64(token->expires_at);
  out["labels"] = policy::LabelsToJson(labels);
  out["principals"] = json::StringArray(*principals);
  out["proxy"] = s.config.public_addr.ToString();
  out["ca_pin"] = s.ca_pin;
  return out;
}

Result<Json::Value> ListNodes(Services& s) {
  auto nodes = Enrollment(s).List();
  if (!nodes) return Err(nodes.error());
  Json::Value list(Json::arrayValue);
  for (const auto& n : *nodes) {
    Json::Value item;
    item["host_uuid"] = n.host_uuid;
    item["hostname"] = n.hostname;
    item["labels"] = policy::LabelsToJson(n.labels);
    item["principals"] = json::StringArray(n.principals);
    item["joined_at"] = Json::Int64(n.joined_at);
    item["last_sync"] = Json::Int64(n.last_sync);
    item["policy_revision"] = Json::Int64(n.policy_revision);
    item["ssh_address"] = n.ssh_address;
    list.append(item);
  }
  Json::Value out;
  out["nodes"] = list;
  return out;
}

// {"principals": [...], "ssh_address": "HOST:PORT"}, either or both: the
// node's host names beside its hostname, where gate-ca reaches its sshd.
// Both are checked before either changes.
Result<Json::Value> UpdateNode(Services& s, const HttpRequest& req, const std::string& host_uuid) {
  if (!LooksLikeHostUuid(host_uuid)) return Err(InvalidArgument("malformed host UUID"));
  auto body = json::Parse(req.body);
  if (!body) return Err(body.error());
  const bool has_principals = body->isMember("principals");
  const bool has_address = body->isMember("ssh_address");
  if (!has_principals && !has_address) {
    return Err(InvalidArgument("give 'principals' or 'ssh_address'"));
  }
  std::vector<std::string> principals;
  if (has_principals) {
    auto given = HostNamesField(*body, "principals");
    if (!given) return Err(given.error());
    principals = *std::move(given);
  }
  std::string address;
  if (has_address) {
    auto text = json::GetString(*body, "ssh_address");
    if (!text) return Err(text.error());
    if (!text->empty()) {
      auto canonical = CanonicalSshAddress(*text);
      if (!canonical) return Err(canonical.error());
      address = *std::move(canonical);
    }
  }
  std::optional<NodeRecord> node;
  if (has_principals) {
    auto updated = Enrollment(s).SetHostNames(host_uuid, principals, s.now());
    if (!updated) return Err(updated.error());
    node = *std::move(updated);
  }
  if (has_address) {
    auto updated = Enrollment(s).SetSshAddress(host_uuid, address, s.now());
    if (!updated) return Err(updated.error());
    node = *std::move(updated);
  }
  Json::Value out;
  out["host_uuid"] = node->host_uuid;
  out["hostname"] = node->hostname;
  out["principals"] = json::StringArray(node->principals);
  out["ssh_address"] = node->ssh_address;
  return out;
}

Result<Json::Value> RemoveNode(Services& s, const std::string& host_uuid) {
  if (!LooksLikeHostUuid(host_uuid)) return Err(InvalidArgument("malformed host UUID"));
  auto removed = Enrollment(s).Remove(host_uuid, s.now());
  if (!removed) return Err(removed.error());
  Json::Value out;
  out["host_uuid"] = host_uuid;
  return out;
}

// A certificate serial as gate prints it: a decimal string (JSON numbers
// lose 64-bit precision), 1 to 2^64-1.
Result<std::uint64_t> ParseSerial(std::string_view text) {
  const Status bad = InvalidArgument("serial must be a decimal number from 1 to " +
                                     std::to_string(std::numeric_limits<std::uint64_t>::max()));
  if (text.empty() || text.size() > 20) return Err(bad);
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return Err(bad);
    if (__builtin_mul_overflow(value, 10u, &value) ||
        __builtin_add_overflow(value, static_cast<std::uint64_t>(c - '0'), &value)) {
      return Err(bad);
    }
  }
  if (value == 0) return Err(bad);
  return value;
}

Result<Json::Value> Revoke(Services& s, const HttpRequest& req) {
  auto body = json::Parse(req.body);
  if (!body) return Err(body.error());
  const bool by_serial = body->isMember("serial");
  const bool by_user = body->isMember("user");
  if (by_serial == by_user) return Err(InvalidArgument("give exactly one of 'serial' and 'user'"));
  const std::int64_t now = s.now();
  std::vector<Revocation> revoked;
  std::string target;
  if (by_serial) {
    auto text = json::GetString(*body, "serial");
    if (!text) return Err(text.error());
    auto serial = ParseSerial(*text);
    if (!serial) return Err(serial.error());
    auto revocation = RevocationService(s.store).RevokeCertificate(*serial, now);
    if (!revocation) return Err(revocation.error());
    target = revocation->user;
    revoked.push_back(*revocation);
  } else {
    auto user = json::GetString(*body, "user");
    if (!user) return Err(user.error());
    GATE_RETURN_IF_ERROR(ValidateUserName(*user));
    auto revocations = RevocationService(s.store).RevokeUserCertificates(*user, now);
    if (!revocations) return Err(revocations.error());
    target = *user;
    revoked = *std::move(revocations);
  }

  Json::Value list(Json::arrayValue);
  std::string detail;
  for (std::size_t i = 0; i < revoked.size(); ++i) {
    const std::string serial = std::to_string(revoked[i].serial);
    list.append(serial);
    if (i < kAuditedSerials) detail += (i == 0 ? "serials " : ",") + serial;
  }
  if (revoked.size() > kAuditedSerials)
    detail += " and " + std::to_string(revoked.size() - kAuditedSerials) + " more";
  if (revoked.empty()) detail = "no live certificates";
  s.audit.Record({now, "cert.revoke", target, "admin", true, detail});
  Json::Value out;
  out["revoked"] = list;
  return out;
}

}  // namespace

void RegisterAdminNodesApi(Router& router, Services& services) {
  Services* s = &services;
  router.Add("POST", "/admin/v1/tokens",
             [s](const HttpRequest& r, const PathParams&) { return AddToken(*s, r); });
  router.Add("GET", "/admin/v1/nodes",
             [s](const HttpRequest&, const PathParams&) { return ListNodes(*s); });
  router.Add("POST", "/admin/v1/nodes/{host_uuid}", [s](const HttpRequest& r, const PathParams& p) {
    return UpdateNode(*s, r, p.at("host_uuid"));
  });
  router.Add("DELETE", "/admin/v1/nodes/{host_uuid}", [s](const HttpRequest&, const PathParams& p) {
    return RemoveNode(*s, p.at("host_uuid"));
  });
  router.Add("POST", "/admin/v1/certs/revoke",
             [s](const HttpRequest& r, const PathParams&) { return Revoke(*s, r); });
}

}  // namespace gate::ca
