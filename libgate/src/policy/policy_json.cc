// The policy snapshot document (docs/node-protocol.md, "The snapshot
// document"): gate-ca's reply, and the rows of the node's cache. The node
// reads it as root-written input, but parses it as if it were hostile: a
// cache that smuggled an odd name or an extra field past this parser would
// be trusted on every login, so anything unexpected is refused.
#include <algorithm>
#include <charconv>
#include <set>

#include "gate/json.h"
#include "gate/names.h"
#include "gate/policy.h"
#include "gate/policy_serial.h"

namespace gate::policy {
namespace {

constexpr int kVersion = 1;
// Lock messages are shown to admins and logged; cluster names and host
// UUIDs are short identifiers. Generous, but bounded.
constexpr std::size_t kMaxTextLength = 1024;

std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > 64) out += "...";
  return out;
}

std::string Indexed(std::string_view name, Json::ArrayIndex i) {
  return std::string(name) + "[" + std::to_string(i) + "]";
}

// Fails closed on fields this version does not know: a newer writer's field
// might restrict access, and silently dropping a restriction is the one
// mistake a policy cache must not make.
Status OnlyFields(const Json::Value& obj, std::initializer_list<std::string_view> known) {
  if (!obj.isObject()) return InvalidArgument("expected a JSON object");
  for (const std::string& name : obj.getMemberNames()) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return InvalidArgument("unknown field '" + Printable(name) + "'");
    }
  }
  return Status::Ok();
}

Result<const Json::Value*> GetMember(const Json::Value& obj, std::string_view name) {
  if (!obj.isObject()) return Err(InvalidArgument("expected a JSON object"));
  const Json::Value* v = obj.find(name.data(), name.data() + name.size());
  if (v == nullptr) return Err(InvalidArgument("missing field '" + std::string(name) + "'"));
  return v;
}

Result<const Json::Value*> GetArray(const Json::Value& obj, std::string_view name) {
  auto v = GetMember(obj, name);
  if (!v) return Err(v.error());
  if (!(*v)->isArray()) {
    return Err(InvalidArgument("field '" + std::string(name) + "' must be an array"));
  }
  return *v;
}

Result<bool> GetBool(const Json::Value& obj, std::string_view name) {
  auto v = GetMember(obj, name);
  if (!v) return Err(v.error());
  if (!(*v)->isBool()) {
    return Err(InvalidArgument("field '" + std::string(name) + "' must be a boolean"));
  }
  return (*v)->asBool();
}

// False when absent; present but not a boolean is an error.
Result<bool> OptionalBool(const Json::Value& obj, std::string_view name) {
  if (!obj.isObject()) return Err(InvalidArgument("expected a JSON object"));
  if (obj.find(name.data(), name.data() + name.size()) == nullptr) return false;
  return GetBool(obj, name);
}

Result<std::int64_t> GetNonNegative(const Json::Value& obj, std::string_view name) {
  auto v = json::GetInt(obj, name);
  if (!v) return Err(v.error());
  if (*v < 0) {
    return Err(InvalidArgument("field '" + std::string(name) + "' must not be negative"));
  }
  return *v;
}

// Control characters would let a cache forge log lines or terminal output.
Result<std::string> GetText(const Json::Value& obj, std::string_view name) {
  auto s = json::GetString(obj, name);
  if (!s) return Err(s.error());
  if (s->size() > kMaxTextLength) {
    return Err(InvalidArgument("field '" + std::string(name) + "' is longer than " +
                               std::to_string(kMaxTextLength) + " bytes"));
  }
  for (char c : *s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return Err(InvalidArgument("field '" + std::string(name) + "' contains a control character"));
    }
  }
  return s;
}

template <typename Validate>
Result<std::vector<std::string>> GetNames(const Json::Value& obj, std::string_view name,
                                          Validate validate) {
  auto names = json::GetStringArray(obj, name);
  if (!names) return Err(names.error());
  for (std::size_t i = 0; i < names->size(); ++i) {
    if (Status s = validate((*names)[i]); !s.ok()) {
      return Err(s.WithContext(std::string(name) + "[" + std::to_string(i) + "]"));
    }
  }
  return names;
}

}  // namespace

Result<std::uint64_t> SerialFromJson(const Json::Value& v) {
  if (!v.isString()) return Err(InvalidArgument("must be a decimal string"));
  const std::string s = v.asString();
  const bool digits =
      !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || (s.size() > 1 && s.front() == '0')) {
    return Err(InvalidArgument("'" + Printable(s) + "' is not a decimal serial"));
  }
  std::uint64_t serial = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), serial);
  if (ec != std::errc() || end != s.data() + s.size()) {
    return Err(InvalidArgument("'" + Printable(s) + "' is out of range for a serial"));
  }
  return serial;
}

namespace {

Result<User> UserFromJson(const Json::Value& json) {
  GATE_RETURN_IF_ERROR(OnlyFields(json, {"name", "logins", "roles"}));
  User user;
  auto name = json::GetString(json, "name");
  if (!name) return Err(name.error());
  GATE_RETURN_IF_ERROR(ValidateUserName(*name).WithContext("name"));
  user.name = std::move(*name);
  auto logins = GetNames(json, "logins", ValidateLogin);
  if (!logins) return Err(logins.error());
  user.logins = std::move(*logins);
  auto roles = GetNames(json, "roles", ValidateRoleName);
  if (!roles) return Err(roles.error());
  user.roles = std::move(*roles);
  return user;
}

Json::Value UserToJson(const User& user) {
  Json::Value v(Json::objectValue);
  v["name"] = user.name;
  v["logins"] = json::StringArray(user.logins);
  v["roles"] = json::StringArray(user.roles);
  return v;
}

Result<Lock> LockFromJson(const Json::Value& json) {
  GATE_RETURN_IF_ERROR(OnlyFields(json, {"user", "expires_at", "message"}));
  Lock lock;
  auto user = json::GetString(json, "user");
  if (!user) return Err(user.error());
  GATE_RETURN_IF_ERROR(ValidateUserName(*user).WithContext("user"));
  lock.user = std::move(*user);
  auto expires_at = GetNonNegative(json, "expires_at");
  if (!expires_at) return Err(expires_at.error());
  lock.expires_at = *expires_at;
  auto message = GetText(json, "message");
  if (!message) return Err(message.error());
  lock.message = std::move(*message);
  return lock;
}

Json::Value LockToJson(const Lock& lock) {
  Json::Value v(Json::objectValue);
  v["user"] = lock.user;
  v["expires_at"] = Json::Int64{lock.expires_at};
  v["message"] = lock.message;
  return v;
}

// Applies parse to every element of the array field `name`, prefixing errors
// with the element's path ("users[2]: missing field 'name'").
template <typename T, typename Parse>
Result<std::vector<T>> GetObjects(const Json::Value& obj, std::string_view name, Parse parse) {
  auto array = GetArray(obj, name);
  if (!array) return Err(array.error());
  std::vector<T> out;
  out.reserve((*array)->size());
  for (Json::ArrayIndex i = 0; i < (*array)->size(); ++i) {
    auto item = parse((**array)[i]);
    if (!item) return Err(item.error().WithContext(Indexed(name, i)));
    out.push_back(std::move(*item));
  }
  return out;
}

}  // namespace

Result<Labels> LabelsFromJson(const Json::Value& json) {
  if (!json.isObject()) return Err(InvalidArgument("labels must be an object of strings"));
  Labels labels;
  for (const std::string& key : json.getMemberNames()) {
    const Json::Value& value = json[key];
    if (!value.isString()) {
      return Err(InvalidArgument("label '" + Printable(key) + "' must be a string"));
    }
    labels.emplace(key, value.asString());
  }
  GATE_RETURN_IF_ERROR(ValidateLabels(labels));
  return labels;
}

Json::Value LabelsToJson(const Labels& labels) {
  Json::Value v(Json::objectValue);
  for (const auto& [key, value] : labels) v[key] = value;
  return v;
}

Json::Value RoleToJson(const Role& role) {
  Json::Value v(Json::objectValue);
  v["name"] = role.name;
  v["logins"] = json::StringArray(role.logins);
  v["node_labels"] = LabelsToJson(role.node_labels);
  v["max_ttl_seconds"] = Json::Int64{role.max_ttl.count()};
  v["permit_pty"] = role.permit_pty;
  v["permit_port_forwarding"] = role.permit_port_forwarding;
  v["permit_agent_forwarding"] = role.permit_agent_forwarding;
  v["record_sessions"] = role.record_sessions;
  v["join_sessions"] = role.join_sessions;
  return v;
}

Result<Role> RoleFromJson(const Json::Value& json) {
  GATE_RETURN_IF_ERROR(OnlyFields(
      json,
      {"name", "logins", "node_labels", "max_ttl_seconds", "permit_pty", "permit_port_forwarding",
       "permit_agent_forwarding", "record_sessions", "join_sessions"}));
  Role role;
  auto name = json::GetString(json, "name");
  if (!name) return Err(name.error());
  GATE_RETURN_IF_ERROR(ValidateRoleName(*name).WithContext("name"));
  role.name = std::move(*name);

  auto logins = GetNames(json, "logins", ValidateLogin);
  if (!logins) return Err(logins.error());
  role.logins = std::move(*logins);

  auto selector = GetMember(json, "node_labels");
  if (!selector) return Err(selector.error());
  auto labels = LabelsFromJson(**selector);
  if (!labels) return Err(labels.error().WithContext("node_labels"));
  role.node_labels = std::move(*labels);

  auto max_ttl = GetNonNegative(json, "max_ttl_seconds");
  if (!max_ttl) return Err(max_ttl.error());
  role.max_ttl = std::chrono::seconds(*max_ttl);

  auto pty = GetBool(json, "permit_pty");
  if (!pty) return Err(pty.error());
  auto port = GetBool(json, "permit_port_forwarding");
  if (!port) return Err(port.error());
  auto agent = GetBool(json, "permit_agent_forwarding");
  if (!agent) return Err(agent.error());
  role.permit_pty = *pty;
  role.permit_port_forwarding = *port;
  role.permit_agent_forwarding = *agent;
  // Optional: caches written before recording existed lack them, and absent
  // means what those writers meant (no recording, no joining).
  auto record = OptionalBool(json, "record_sessions");
  if (!record) return Err(record.error());
  auto join = OptionalBool(json, "join_sessions");
  if (!join) return Err(join.error());
  role.record_sessions = *record;
  role.join_sessions = *join;
  return role;
}

Json::Value SnapshotToJson(const Snapshot& snapshot) {
  Json::Value v(Json::objectValue);
  v["version"] = snapshot.version;
  v["cluster_name"] = snapshot.cluster_name;
  v["host_uuid"] = snapshot.host_uuid;
  v["generated_at"] = Json::Int64{snapshot.generated_at};
  v["revision"] = Json::Int64{snapshot.revision};
  v["node_labels"] = LabelsToJson(snapshot.node_labels);
  Json::Value users(Json::arrayValue);
  for (const User& user : snapshot.users) users.append(UserToJson(user));
  v["users"] = std::move(users);
  Json::Value roles(Json::arrayValue);
  for (const Role& role : snapshot.roles) roles.append(RoleToJson(role));
  v["roles"] = std::move(roles);
  Json::Value locks(Json::arrayValue);
  for (const Lock& lock : snapshot.locks) locks.append(LockToJson(lock));
  v["locks"] = std::move(locks);
  Json::Value serials(Json::arrayValue);
  for (std::uint64_t serial : snapshot.revoked_serials) serials.append(std::to_string(serial));
  v["revoked_serials"] = std::move(serials);
  return v;
}

Result<Snapshot> SnapshotFromJson(const Json::Value& json) {
  Snapshot snapshot;
  // The version first: a file from a newer gate-node must be reported as
  // such, not as a list of fields this parser does not know.
  auto version = json::GetInt(json, "version");
  if (!version) return Err(version.error());
  if (*version != kVersion) {
    return Err(InvalidArgument("unsupported policy cache version " + std::to_string(*version) +
                               " (field 'version'; this build reads version " +
                               std::to_string(kVersion) + ")"));
  }
  snapshot.version = kVersion;
  GATE_RETURN_IF_ERROR(
      OnlyFields(json, {"version", "cluster_name", "host_uuid", "generated_at", "revision",
                        "node_labels", "users", "roles", "locks", "revoked_serials"}));

  auto cluster_name = GetText(json, "cluster_name");
  if (!cluster_name) return Err(cluster_name.error());
  snapshot.cluster_name = std::move(*cluster_name);
  auto host_uuid = GetText(json, "host_uuid");
  if (!host_uuid) return Err(host_uuid.error());
  snapshot.host_uuid = std::move(*host_uuid);
  auto generated_at = GetNonNegative(json, "generated_at");
  if (!generated_at) return Err(generated_at.error());
  snapshot.generated_at = *generated_at;
  // Optional: caches written before revisions existed lack it (0).
  if (json.isMember("revision")) {
    auto revision = GetNonNegative(json, "revision");
    if (!revision) return Err(revision.error());
    snapshot.revision = *revision;
  }

  auto node_labels = GetMember(json, "node_labels");
  if (!node_labels) return Err(node_labels.error());
  auto labels = LabelsFromJson(**node_labels);
  if (!labels) return Err(labels.error().WithContext("node_labels"));
  snapshot.node_labels = std::move(*labels);

  auto users = GetObjects<User>(json, "users", UserFromJson);
  if (!users) return Err(users.error());
  auto roles = GetObjects<Role>(json, "roles", RoleFromJson);
  if (!roles) return Err(roles.error());
  auto locks = GetObjects<Lock>(json, "locks", LockFromJson);
  if (!locks) return Err(locks.error());

  // Two entries for one name would make the decision depend on which one a
  // lookup happens to find first.
  std::set<std::string> seen;
  for (std::size_t i = 0; i < users->size(); ++i) {
    if (!seen.insert((*users)[i].name).second) {
      return Err(InvalidArgument("users[" + std::to_string(i) + "]: user '" + (*users)[i].name +
                                 "' is listed twice"));
    }
  }
  seen.clear();
  for (std::size_t i = 0; i < roles->size(); ++i) {
    if (!seen.insert((*roles)[i].name).second) {
      return Err(InvalidArgument("roles[" + std::to_string(i) + "]: role '" + (*roles)[i].name +
                                 "' is listed twice"));
    }
  }
  snapshot.users = std::move(*users);
  snapshot.roles = std::move(*roles);
  snapshot.locks = std::move(*locks);

  auto serials = GetArray(json, "revoked_serials");
  if (!serials) return Err(serials.error());
  snapshot.revoked_serials.reserve((*serials)->size());
  for (Json::ArrayIndex i = 0; i < (*serials)->size(); ++i) {
    auto serial = SerialFromJson((**serials)[i]);
    if (!serial) return Err(serial.error().WithContext(Indexed("revoked_serials", i)));
    snapshot.revoked_serials.push_back(*serial);
  }
  return snapshot;
}

}  // namespace gate::policy
