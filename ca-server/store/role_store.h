// RoleStore: roles and admin locks, the inputs of policy::ComputeGrant and
// policy::ActiveLock. One of the aggregates Store (store.h) composes.
#ifndef GATE_CA_STORE_ROLE_STORE_H_
#define GATE_CA_STORE_ROLE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gate/policy.h"
#include "gate/status.h"

namespace gate::ca {

// An admin's lock on a user: no certificate is issued and nodes refuse the
// user's logins while it is in force. At most one per user.
struct LockRecord {
  std::string user;
  std::int64_t expires_at = 0;  // unix seconds; 0 = until unlocked
  std::string message;          // shown to the user and in logs; never a secret
  std::int64_t created_at = 0;
};

class RoleStore {
 public:
  virtual ~RoleStore() = default;

  // Roles, stored as policy::Role, as given: the rules a role obeys are
  // RoleAdmin's (auth/role_admin.h). CreateRole: AlreadyExists if the name is
  // taken. UpdateRole replaces a role wholesale (NotFound if absent).
  // ModifyRole is a read-modify-write in one transaction, so concurrent
  // changes to one role cannot overwrite each other: it loads the role
  // (NotFound if absent), passes it to change and stores the role change
  // returns, which it also returns. If change fails, its Status is returned
  // and nothing is written; the changed role must keep its name
  // (InvalidArgument otherwise). change runs with the store locked: it must
  // not call the store.
  // DeleteRole: NotFound if absent; FailedPrecondition, naming the users,
  // while any user holds the role (checked in the same transaction).
  using RoleChange = std::function<Result<policy::Role>(const policy::Role&)>;
  virtual Status CreateRole(const policy::Role& role) = 0;
  virtual Status UpdateRole(const policy::Role& role) = 0;
  virtual Result<policy::Role> ModifyRole(const std::string& name, const RoleChange& change) = 0;
  virtual Result<policy::Role> GetRole(const std::string& name) = 0;  // NotFound
  virtual Result<std::vector<policy::Role>> ListRoles() = 0;          // by name
  // One page of ListRoles: at most limit roles whose names sort after
  // `after` ("" = from the first), by name.
  virtual Result<std::vector<policy::Role>> ListRolesAfter(const std::string& after,
                                                           std::size_t limit) = 0;
  virtual Status DeleteRole(const std::string& name) = 0;

  // Locks. SetLock creates or replaces the user's lock (NotFound if the user
  // does not exist; InvalidArgument for an empty user name, which UserAdmin
  // refuses before it gets here); a user's lock goes with the user. DeleteLock: NotFound
  // if the user has no lock. ListLocks returns expired locks too (by user);
  // policy::ActiveLock decides which are in force.
  virtual Status SetLock(const LockRecord& lock) = 0;
  virtual Status DeleteLock(const std::string& user) = 0;
  virtual Result<std::vector<LockRecord>> ListLocks() = 0;
};

}  // namespace gate::ca

#endif  // GATE_CA_STORE_ROLE_STORE_H_
