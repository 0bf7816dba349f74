#include "sshd-hooks/node/policy_sync.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "gate/json.h"
#include "gate/names.h"

namespace gate::node {
namespace {

Result<PolicyReply::Shape> ShapeField(const Json::Value& reply) {
  auto shape = json::GetString(reply, "shape");
  if (!shape) return Err(shape.error());
  if (*shape == "unchanged") return PolicyReply::Shape::kUnchanged;
  if (*shape == "delta") return PolicyReply::Shape::kDelta;
  if (*shape == "full") return PolicyReply::Shape::kFullPage;
  return Err(InvalidArgument("unknown reply shape '" + *shape + "'"));
}

// A list of names, each passing validate, none twice.
Result<std::vector<std::string>> NameList(const Json::Value& reply, const char* field,
                                          Status (*validate)(std::string_view)) {
  auto names = json::GetStringArray(reply, field);
  if (!names) return Err(names.error());
  std::set<std::string> seen;
  for (const std::string& name : *names) {
    GATE_RETURN_IF_ERROR(validate(name).WithContext(field));
    if (!seen.insert(name).second) {
      return Err(InvalidArgument(std::string(field) + ": '" + name + "' is listed twice"));
    }
  }
  return names;
}

template <typename Entry>
bool AnyNamed(const std::vector<Entry>& entries, const std::vector<std::string>& names) {
  std::set<std::string> set(names.begin(), names.end());
  return std::any_of(entries.begin(), entries.end(),
                     [&](const Entry& e) { return set.count(e.name) > 0; });
}

// The entries of base replaced or added by those of changed, without the
// removed ones, by name.
template <typename Entry>
std::vector<Entry> Merge(const std::vector<Entry>& base, const std::vector<Entry>& changed,
                         const std::vector<std::string>& removed) {
  std::map<std::string, Entry> by_name;
  for (const Entry& e : base) by_name[e.name] = e;
  for (const Entry& e : changed) by_name[e.name] = e;
  for (const std::string& name : removed) by_name.erase(name);
  std::vector<Entry> out;
  out.reserve(by_name.size());
  for (auto& [name, entry] : by_name) out.push_back(std::move(entry));
  return out;
}

template <typename Entry>
bool SortedAfter(const std::vector<Entry>& entries, const std::string* after) {
  for (const Entry& e : entries) {
    if (after != nullptr && !(*after < e.name)) return false;
    after = &e.name;
  }
  return true;
}

Status ParseBody(const Json::Value& reply, std::string_view expected_host_uuid, PolicyReply& out) {
  auto snapshot = policy::SnapshotFromJson(reply["snapshot"]);
  if (!snapshot) return snapshot.error().WithContext("snapshot");
  if (!expected_host_uuid.empty() && snapshot->host_uuid != expected_host_uuid) {
    return InvalidArgument("the snapshot is for node " + snapshot->host_uuid + ", not this one");
  }
  out.snapshot = *std::move(snapshot);
  out.snapshot.revision = out.revision;
  if (reply.isMember("krl")) {
    auto krl = json::GetString(reply, "krl");
    if (!krl) return krl.error();
    out.has_krl = true;
    out.krl_base64 = *std::move(krl);
  }
  return Status::Ok();
}

}  // namespace

Result<PolicyReply> ParsePolicyReply(const Json::Value& reply,
                                     std::string_view expected_host_uuid) {
  if (!reply.isObject()) return Err(InvalidArgument("policy reply is not an object"));
  PolicyReply out;
  auto shape = ShapeField(reply);
  if (!shape) return Err(shape.error());
  out.shape = *shape;
  auto revision = json::GetInt(reply, "revision");
  if (!revision) return Err(revision.error());
  if (*revision < 1) return Err(InvalidArgument("policy revision must be at least 1"));
  out.revision = *revision;
  out.user_ca = reply["user_ca"];
  if (reply.isMember("host_principals")) {
    auto names = json::GetStringArray(reply, "host_principals");
    if (!names) return Err(names.error());
    out.host_principals = *std::move(names);
  }
  if (out.shape == PolicyReply::Shape::kUnchanged) return out;

  GATE_RETURN_IF_ERROR(ParseBody(reply, expected_host_uuid, out));
  if (out.shape == PolicyReply::Shape::kFullPage) {
    if (reply.isMember("next")) {
      auto next = json::GetString(reply, "next");
      if (!next) return Err(next.error());
      if (next->empty()) return Err(InvalidArgument("empty page cursor"));
      out.next = *std::move(next);
    }
    return out;
  }

  auto base = json::GetInt(reply, "base");
  if (!base) return Err(base.error());
  if (*base < 1 || *base >= out.revision) {
    return Err(InvalidArgument("a delta from revision " + std::to_string(*base) + " to " +
                               std::to_string(out.revision) + " goes nowhere"));
  }
  out.base = *base;
  if (!out.has_krl) return Err(InvalidArgument("a delta must carry the KRL"));
  auto removed_users = NameList(reply, "removed_users", ValidateUserName);
  if (!removed_users) return Err(removed_users.error());
  auto removed_roles = NameList(reply, "removed_roles", policy::ValidateRoleName);
  if (!removed_roles) return Err(removed_roles.error());
  out.removed_users = *std::move(removed_users);
  out.removed_roles = *std::move(removed_roles);
  if (AnyNamed(out.snapshot.users, out.removed_users) ||
      AnyNamed(out.snapshot.roles, out.removed_roles)) {
    return Err(InvalidArgument("a delta both changes and removes the same name"));
  }
  return out;
}

Result<policy::Snapshot> ApplyDelta(const policy::Snapshot& base, const PolicyReply& delta) {
  if (delta.shape != PolicyReply::Shape::kDelta) {
    return Err(InvalidArgument("not a delta"));
  }
  if (base.revision != delta.base) {
    return Err(FailedPrecondition("a delta from revision " + std::to_string(delta.base) +
                                  " does not apply to the cache at revision " +
                                  std::to_string(base.revision)));
  }
  if (base.host_uuid != delta.snapshot.host_uuid ||
      base.cluster_name != delta.snapshot.cluster_name) {
    return Err(InvalidArgument("a delta for another node or cluster"));
  }
  policy::Snapshot out = delta.snapshot;
  out.users = Merge(base.users, delta.snapshot.users, delta.removed_users);
  out.roles = Merge(base.roles, delta.snapshot.roles, delta.removed_roles);
  out.revision = delta.revision;
  return out;
}

Status AppendPage(policy::Snapshot& assembled, const PolicyReply& page) {
  if (page.shape != PolicyReply::Shape::kFullPage) {
    return InvalidArgument("a page of a full snapshot was expected");
  }
  if (page.revision != assembled.revision || page.snapshot.host_uuid != assembled.host_uuid) {
    return InvalidArgument("a page of another snapshot (revision " + std::to_string(page.revision) +
                           ", expected " + std::to_string(assembled.revision) + ")");
  }
  // Roles come before users: a page with roles after any user is out of order.
  if (!page.snapshot.roles.empty() && !assembled.users.empty()) {
    return InvalidArgument("policy pages out of order: roles after users");
  }
  const std::string* last_role = assembled.roles.empty() ? nullptr : &assembled.roles.back().name;
  const std::string* last_user = assembled.users.empty() ? nullptr : &assembled.users.back().name;
  if (!SortedAfter(page.snapshot.roles, last_role) ||
      !SortedAfter(page.snapshot.users, last_user)) {
    return InvalidArgument("policy pages out of order or overlapping");
  }
  assembled.roles.insert(assembled.roles.end(), page.snapshot.roles.begin(),
                         page.snapshot.roles.end());
  assembled.users.insert(assembled.users.end(), page.snapshot.users.begin(),
                         page.snapshot.users.end());
  return Status::Ok();
}

}  // namespace gate::node
