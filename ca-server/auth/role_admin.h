// RoleAdmin: what an administrator does to roles (gatectl roles ...,
// /admin/v1/roles): create, replace, modify and delete. The rules a stored
// role obeys and the audit trail of each change live here; the store keeps
// what it is given, and the admin API only translates HTTP+JSON.
//
// Every method audits its success as "role.<verb>" with source "admin";
// failures change nothing and are returned as they are (store errors,
// NotFound for a missing role, InvalidArgument as stated).
// Thread-safe as the services it is built on; cheap to construct per call.
#ifndef GATE_CA_AUTH_ROLE_ADMIN_H_
#define GATE_CA_AUTH_ROLE_ADMIN_H_

#include <cstdint>
#include <string>

#include "ca-server/audit/audit.h"
#include "ca-server/store/store.h"
#include "gate/policy.h"
#include "gate/status.h"

namespace gate::ca {

// The checks every stored role passes, whoever writes it: InvalidArgument for
// an empty name or a negative max_ttl. Request-level limits (name syntax, the
// cluster's TTL range) are the caller's to apply first.
Status CheckRoleFields(const policy::Role& role);

// One line describing the role, for audit details and logs.
std::string RoleSummary(const policy::Role& role);

class RoleAdmin {
 public:
  RoleAdmin(Store& store, AuditLog& audit) : store_(store), audit_(audit) {}

  // AlreadyExists if the name is taken.
  Status Create(const policy::Role& role, std::int64_t now);

  // Replaces the stored role of the same name wholesale; NotFound if absent.
  Status Replace(const policy::Role& role, std::int64_t now);

  // Read-modify-write in one store transaction (RoleStore::ModifyRole): the
  // role change returns is checked with CheckRoleFields inside the
  // transaction and stored only if it passes. change must not call the store.
  Result<policy::Role> Modify(const std::string& name, const RoleStore::RoleChange& change,
                              std::int64_t now);

  // NotFound if absent; FailedPrecondition naming the users while any holds it.
  Status Remove(const std::string& name, std::int64_t now);

 private:
  Store& store_;
  AuditLog& audit_;
};

}  // namespace gate::ca

#endif  // GATE_CA_AUTH_ROLE_ADMIN_H_
