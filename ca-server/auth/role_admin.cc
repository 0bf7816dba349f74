#include "ca-server/auth/role_admin.h"

namespace gate::ca {

Status CheckRoleFields(const policy::Role& role) {
  if (role.name.empty()) return InvalidArgument("role name must not be empty");
  if (role.max_ttl.count() < 0) return InvalidArgument("role max_ttl must not be negative");
  return Status::Ok();
}

std::string RoleSummary(const policy::Role& role) {
  std::string logins;
  for (const auto& l : role.logins) logins += (logins.empty() ? "" : ",") + l;
  return "logins " + logins + "; node labels " + policy::FormatLabels(role.node_labels) +
         "; max ttl " + std::to_string(role.max_ttl.count()) + "s; pty " +
         (role.permit_pty ? "yes" : "no") + ", port forwarding " +
         (role.permit_port_forwarding ? "yes" : "no") + ", agent forwarding " +
         (role.permit_agent_forwarding ? "yes" : "no") + "; record sessions " +
         (role.record_sessions ? "yes" : "no") + ", join sessions " +
         (role.join_sessions ? "yes" : "no");
}

Status RoleAdmin::Create(const policy::Role& role, std::int64_t now) {
  GATE_RETURN_IF_ERROR(CheckRoleFields(role));
  GATE_RETURN_IF_ERROR(store_.CreateRole(role));
  audit_.Record({now, "role.create", "", "admin", true, role.name + ": " + RoleSummary(role)});
  return Status::Ok();
}

Status RoleAdmin::Replace(const policy::Role& role, std::int64_t now) {
  GATE_RETURN_IF_ERROR(CheckRoleFields(role));
  GATE_RETURN_IF_ERROR(store_.UpdateRole(role));
  audit_.Record({now, "role.update", "", "admin", true, role.name + ": " + RoleSummary(role)});
  return Status::Ok();
}

Result<policy::Role> RoleAdmin::Modify(const std::string& name, const RoleStore::RoleChange& change,
                                       std::int64_t now) {
  auto role = store_.ModifyRole(name, [&](const policy::Role& stored) -> Result<policy::Role> {
    Result<policy::Role> changed = change(stored);
    if (!changed) return changed;
    GATE_RETURN_IF_ERROR(CheckRoleFields(*changed));
    return changed;
  });
  if (!role) return role;
  audit_.Record({now, "role.update", "", "admin", true, role->name + ": " + RoleSummary(*role)});
  return role;
}

Status RoleAdmin::Remove(const std::string& name, std::int64_t now) {
  GATE_RETURN_IF_ERROR(store_.DeleteRole(name));
  audit_.Record({now, "role.delete", "", "admin", true, name});
  return Status::Ok();
}

}  // namespace gate::ca
