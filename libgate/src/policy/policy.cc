#include "gate/policy.h"

#include <algorithm>

#include "gate/certificate.h"

namespace gate::policy {
namespace {

constexpr std::string_view kWildcard = "*";
constexpr std::size_t kMaxRoleNameLength = 64;

// Reasons and error messages end up in syslog lines and on terminals; only
// printable ASCII is echoed, so a hostile cache or request cannot inject
// control sequences or forge extra log lines.
std::string Printable(std::string_view s, std::size_t limit = 64) {
  std::string out;
  for (char c : s.substr(0, limit)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > limit) out += "...";
  return out;
}

std::string Quoted(std::string_view s) { return "'" + Printable(s) + "'"; }

bool IsLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '/' || c == '-';
}

Status CheckLabelPart(std::string_view what, std::string_view s) {
  if (s.empty()) return InvalidArgument("label " + std::string(what) + " is empty");
  if (s.size() > kMaxLabelLength) {
    return InvalidArgument("label " + std::string(what) + " " + Quoted(s) + " is longer than " +
                           std::to_string(kMaxLabelLength) + " characters");
  }
  if (s == kWildcard) return Status::Ok();
  if (!std::all_of(s.begin(), s.end(), IsLabelChar)) {
    return InvalidArgument("label " + std::string(what) + " " + Quoted(s) +
                           " may contain only letters, digits and . _ / - (or be \"*\")");
  }
  return Status::Ok();
}

Status CheckLabel(std::string_view key, std::string_view value) {
  GATE_RETURN_IF_ERROR(CheckLabelPart("key", key));
  GATE_RETURN_IF_ERROR(CheckLabelPart("value", value));
  // "*=prod" has no sensible meaning (which key should be prod?); refusing
  // it keeps LabelsMatch's rules small enough to state in one sentence.
  if (key == kWildcard && value != kWildcard) {
    return InvalidArgument("label key \"*\" is only allowed as \"*=*\" (every node)");
  }
  return Status::Ok();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

const User* FindUser(const std::vector<User>& users, const std::string& name) {
  for (const User& u : users) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

const Role* FindRole(const std::vector<Role>& roles, const std::string& name) {
  for (const Role& r : roles) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

void AppendUnique(std::vector<std::string>* out, const std::vector<std::string>& items) {
  for (const std::string& item : items) {
    if (!Contains(*out, item)) out->push_back(item);
  }
}

// Whether one of user's roles that exists and selects the snapshot's node
// has the property `has`. Unknown users have no roles.
template <typename Pred>
bool AnyRoleOnNode(const Snapshot& snapshot, const std::string& user, Pred has) {
  const User* u = FindUser(snapshot.users, user);
  if (u == nullptr) return false;
  for (const std::string& role_name : u->roles) {
    const Role* role = FindRole(snapshot.roles, role_name);
    if (role == nullptr || !has(*role)) continue;
    if (LabelsMatch(role->node_labels, snapshot.node_labels)) return true;
  }
  return false;
}

std::string LockedMessage(const Lock& lock) {
  return lock.message.empty() ? std::string() : ": " + Printable(lock.message, 256);
}

}  // namespace

const Lock* ActiveLock(const std::vector<Lock>& locks, const std::string& user, std::int64_t now) {
  for (const Lock& lock : locks) {
    if (lock.user != user) continue;
    if (lock.expires_at == 0 || now < lock.expires_at) return &lock;
  }
  return nullptr;
}

bool LabelsMatch(const Labels& selector, const Labels& node) {
  // Fail closed: a role whose selector was never filled in must not reach
  // every node by accident.
  if (selector.empty()) return false;
  for (const auto& [key, value] : selector) {
    if (key == kWildcard) {
      if (value != kWildcard) return false;
      continue;
    }
    const auto it = node.find(key);
    if (it == node.end()) return false;
    if (value != kWildcard && it->second != value) return false;
  }
  return true;
}

Result<Grant> ComputeGrant(const User& user, const std::vector<Role>& roles,
                           const std::vector<Lock>& locks, std::int64_t now) {
  if (const Lock* lock = ActiveLock(locks, user.name, now); lock != nullptr) {
    return Err(
        PermissionDenied("user " + Printable(user.name) + " is locked" + LockedMessage(*lock)));
  }
  Grant grant;
  AppendUnique(&grant.logins, user.logins);
  bool pty = true;
  bool port_forwarding = true;
  bool agent_forwarding = true;
  for (const std::string& role_name : user.roles) {
    if (Contains(grant.roles, role_name)) continue;
    const Role* role = FindRole(roles, role_name);
    if (role == nullptr) continue;
    grant.roles.push_back(role->name);
    AppendUnique(&grant.logins, role->logins);
    if (role->max_ttl.count() > 0 &&
        (grant.max_ttl.count() == 0 || role->max_ttl < grant.max_ttl)) {
      grant.max_ttl = role->max_ttl;
    }
    pty = pty && role->permit_pty;
    port_forwarding = port_forwarding && role->permit_port_forwarding;
    agent_forwarding = agent_forwarding && role->permit_agent_forwarding;
  }
  if (grant.logins.empty()) {
    return Err(FailedPrecondition("user " + Printable(user.name) +
                                  " has no logins (give the user logins or a role with logins)"));
  }
  if (pty) grant.extensions.emplace_back(ssh::kPermitPty);
  if (port_forwarding) grant.extensions.emplace_back(ssh::kPermitPortForwarding);
  if (agent_forwarding) grant.extensions.emplace_back(ssh::kPermitAgentForwarding);
  std::sort(grant.extensions.begin(), grant.extensions.end());
  return grant;
}

Decision DecideLogin(const Snapshot& snapshot, const LoginRequest& request) {
  Decision d;
  const User* user = FindUser(snapshot.users, request.user);
  if (user == nullptr) {
    d.reason = "unknown user";
    return d;
  }
  if (const Lock* lock = ActiveLock(snapshot.locks, user->name, request.now); lock != nullptr) {
    d.reason = "user locked" + LockedMessage(*lock);
    return d;
  }
  if (std::find(snapshot.revoked_serials.begin(), snapshot.revoked_serials.end(), request.serial) !=
      snapshot.revoked_serials.end()) {
    d.reason = "certificate serial " + std::to_string(request.serial) + " revoked";
    return d;
  }
  const std::string login = Quoted(request.login);
  if (Contains(user->logins, request.login)) {
    d.allow = true;
    d.record = MustRecord(snapshot, user->name);
    d.reason = "login " + login + " is one of the user's own logins";
    return d;
  }
  for (const std::string& role_name : user->roles) {
    const Role* role = FindRole(snapshot.roles, role_name);
    if (role == nullptr || !Contains(role->logins, request.login)) continue;
    if (!LabelsMatch(role->node_labels, snapshot.node_labels)) continue;
    d.allow = true;
    d.record = MustRecord(snapshot, user->name);
    d.reason = "login " + login + " granted by role " + Quoted(role->name);
    return d;
  }
  d.reason = "login " + login + " not allowed on this node";
  return d;
}

std::vector<std::string> LoginsOnNode(const User& user, const std::vector<Role>& roles,
                                      const Labels& node_labels) {
  std::vector<std::string> out;
  AppendUnique(&out, user.logins);
  for (const std::string& role_name : user.roles) {
    const Role* role = FindRole(roles, role_name);
    if (role != nullptr && LabelsMatch(role->node_labels, node_labels)) {
      AppendUnique(&out, role->logins);
    }
  }
  return out;
}

bool MustRecord(const Snapshot& snapshot, const std::string& user) {
  return AnyRoleOnNode(snapshot, user, [](const Role& r) { return r.record_sessions; });
}

bool MayJoinSessions(const Snapshot& snapshot, const std::string& user, std::int64_t now) {
  if (ActiveLock(snapshot.locks, user, now) != nullptr) return false;
  return AnyRoleOnNode(snapshot, user, [](const Role& r) { return r.join_sessions; });
}

bool MayForwardPorts(const Snapshot& snapshot, const std::string& user, std::int64_t now) {
  if (ActiveLock(snapshot.locks, user, now) != nullptr) return false;
  const User* u = FindUser(snapshot.users, user);
  if (u == nullptr) return false;
  for (const std::string& role_name : u->roles) {
    const Role* role = FindRole(snapshot.roles, role_name);
    if (role != nullptr && !role->permit_port_forwarding) return false;
  }
  return AnyRoleOnNode(snapshot, user, [](const Role& r) { return r.permit_port_forwarding; });
}

Result<Labels> ParseLabels(std::string_view text) {
  Labels labels;
  if (Trim(text).empty()) return labels;
  while (true) {
    const auto comma = text.find(',');
    const std::string_view item = Trim(text.substr(0, comma));
    if (item.empty()) return Err(InvalidArgument("empty label in list; use e.g. env=prod,team=db"));
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      return Err(InvalidArgument("label " + Quoted(item) + " must be key=value"));
    }
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    GATE_RETURN_IF_ERROR(CheckLabel(key, value));
    if (!labels.emplace(key, value).second) {
      return Err(InvalidArgument("label key " + Quoted(key) + " given twice"));
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return labels;
}

std::string FormatLabels(const Labels& labels) {
  std::string out;
  for (const auto& [key, value] : labels) {
    if (!out.empty()) out += ',';
    out += key;
    out += '=';
    out += value;
  }
  return out;
}

Status ValidateLabels(const Labels& labels) {
  for (const auto& [key, value] : labels) GATE_RETURN_IF_ERROR(CheckLabel(key, value));
  return Status::Ok();
}

Status ValidateRoleName(std::string_view name) {
  if (name.empty() || name.size() > kMaxRoleNameLength) {
    return InvalidArgument("role name must be 1 to " + std::to_string(kMaxRoleNameLength) +
                           " characters");
  }
  if (name.front() == '-' || name.front() == '.') {
    return InvalidArgument("role name " + Quoted(name) + " must not start with '-' or '.'");
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '@' || c == '-';
    if (!ok) {
      return InvalidArgument("role name " + Quoted(name) +
                             " may contain only letters, digits and . _ @ -");
    }
  }
  return Status::Ok();
}

}  // namespace gate::policy
