// RoleStore on SQLite: roles (with their logins and node labels in child
// tables) and admin locks.
#include <array>

#include "ca-server/store/sqlite_columns.h"
#include "ca-server/store/sqlite_store.h"

namespace gate::ca::sqlite {
namespace {

constexpr std::array<Column<policy::Role>, 7> kRoleColumns = {{
    Field<&policy::Role::name>("name"),
    Field<&policy::Role::max_ttl>("max_ttl"),
    Field<&policy::Role::permit_pty>("permit_pty"),
    Field<&policy::Role::permit_port_forwarding>("permit_port_forwarding"),
    Field<&policy::Role::permit_agent_forwarding>("permit_agent_forwarding"),
    Field<&policy::Role::record_sessions>("record_sessions"),
    Field<&policy::Role::join_sessions>("join_sessions"),
}};
constexpr Columns<policy::Role> kRoles(kRoleColumns);

constexpr std::array<Column<LockRecord>, 4> kLockColumns = {{
    Field<&LockRecord::user>("user_name"),
    Field<&LockRecord::expires_at>("expires_at"),
    Field<&LockRecord::message>("message"),
    Field<&LockRecord::created_at>("created_at"),
}};
constexpr Columns<LockRecord> kLocks(kLockColumns);

// A role row without its children.
policy::Role ReadRoleRow(const Stmt& stmt) {
  policy::Role role = ReadRow(stmt, kRoles);
  role.node_labels.clear();  // filled from role_node_labels
  return role;
}

Result<policy::Role> LoadRole(sqlite3* db, const std::string& name) {
  Result<Stmt> stmt = Stmt::Prepare(db, SelectSql("roles", kRoles, "WHERE name = ?1"));
  if (!stmt) return Err(stmt.error());
  Result<bool> row = stmt->Text(1, name).Step();
  if (!row) return Err(row.error());
  if (!*row) return Err(RoleNotFound(name));
  policy::Role role = ReadRoleRow(*stmt);
  Result<std::vector<std::string>> logins = LoadList(db, kRoleLogins, name);
  if (!logins) return Err(logins.error());
  Result<policy::Labels> labels = LoadLabels(db, kRoleLabels, name);
  if (!labels) return Err(labels.error());
  role.logins = *std::move(logins);
  role.node_labels = *std::move(labels);
  return role;
}

Status StoreRoleChildren(sqlite3* db, const policy::Role& role) {
  GATE_RETURN_IF_ERROR(StoreList(db, kRoleLogins, role.name, role.logins));
  return StoreLabels(db, kRoleLabels, role.name, role.node_labels);
}

// Overwrites the stored role of the same name; NotFound if absent.
Status ReplaceRole(sqlite3* db, const policy::Role& role) {
  std::string sets;
  for (std::size_t i = 1; i < kRoles.size(); ++i) {
    sets += (i == 1 ? "" : ", ") + std::string(kRoles[i].name) + " = ?" + std::to_string(i + 1);
  }
  Result<Stmt> stmt = Stmt::Prepare(db, "UPDATE roles SET " + sets + " WHERE name = ?1");
  if (!stmt) return stmt.error();
  GATE_RETURN_IF_ERROR(ChangeOne(BindRow(*stmt, kRoles, role), RoleNotFound(role.name)));
  return StoreRoleChildren(db, role);
}

}  // namespace

Status SqliteStore::CreateRole(const policy::Role& role) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    {
      Result<Stmt> stmt = Stmt::Prepare(db, InsertSql("roles", kRoles));
      if (!stmt) return stmt.error();
      BindRow(*stmt, kRoles, role);
      GATE_RETURN_IF_ERROR(stmt->Insert(AlreadyExists("role '" + role.name + "' already exists"),
                                        Internal("sqlite: unexpected foreign key violation")));
    }
    return StoreRoleChildren(db, role);
  });
}

Status SqliteStore::UpdateRole(const policy::Role& role) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) { return ReplaceRole(db, role); });
}

Result<policy::Role> SqliteStore::ModifyRole(const std::string& name, const RoleChange& change) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Result<policy::Role> {
    Result<policy::Role> stored = LoadRole(db, name);
    if (!stored) return stored;
    Result<policy::Role> changed = change(*stored);
    if (!changed) return changed;
    if (changed->name != name) {
      return Err(
          InvalidArgument("role '" + name + "' cannot be renamed to '" + changed->name + "'"));
    }
    GATE_RETURN_IF_ERROR(ReplaceRole(db, *changed));
    return changed;
  });
}

Result<policy::Role> SqliteStore::GetRole(const std::string& name) {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) { return LoadRole(db, name); });
}

Result<std::vector<policy::Role>> SqliteStore::ListRoles() {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) -> Result<std::vector<policy::Role>> {
    std::vector<policy::Role> roles;
    {
      Result<Stmt> stmt = Stmt::Prepare(db, SelectSql("roles", kRoles, "ORDER BY name"));
      if (!stmt) return Err(stmt.error());
      GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] { roles.push_back(ReadRoleRow(*stmt)); }));
    }
    auto logins = LoadAllLists(db, kRoleLogins);
    if (!logins) return Err(logins.error());
    auto labels = LoadAllLabels(db, kRoleLabels);
    if (!labels) return Err(labels.error());
    for (policy::Role& role : roles) {
      if (auto it = logins->find(role.name); it != logins->end()) role.logins = it->second;
      if (auto it = labels->find(role.name); it != labels->end()) role.node_labels = it->second;
    }
    return roles;
  });
}

// Roles are few beside users; their children are loaded one role at a time.
Result<std::vector<policy::Role>> SqliteStore::ListRolesAfter(const std::string& after,
                                                              std::size_t limit) {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) -> Result<std::vector<policy::Role>> {
    std::vector<std::string> names;
    {
      Result<Stmt> stmt =
          Stmt::Prepare(db, "SELECT name FROM roles WHERE name > ?1 ORDER BY name LIMIT ?2");
      if (!stmt) return Err(stmt.error());
      stmt->Text(1, after).Int(2, static_cast<std::int64_t>(limit));
      GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] { names.push_back(stmt->ColumnText(0)); }));
    }
    std::vector<policy::Role> roles;
    for (const std::string& name : names) {
      Result<policy::Role> role = LoadRole(db, name);
      if (!role) return Err(role.error());
      roles.push_back(*std::move(role));
    }
    return roles;
  });
}

Status SqliteStore::DeleteRole(const std::string& name) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    {
      Result<Stmt> stmt = Stmt::Prepare(db, "SELECT 1 FROM roles WHERE name = ?1");
      if (!stmt) return stmt.error();
      Result<bool> row = stmt->Text(1, name).Step();
      if (!row) return row.error();
      if (!*row) return RoleNotFound(name);
    }
    {
      // Name a few holders, enough for the admin to act on.
      constexpr int kNamed = 5;
      Result<Stmt> stmt = Stmt::Prepare(
          db,
          "SELECT DISTINCT user_name FROM user_roles WHERE role = ?1 ORDER BY user_name LIMIT ?2");
      if (!stmt) return stmt.error();
      stmt->Text(1, name).Int(2, kNamed + 1);
      std::vector<std::string> holders;
      GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] { holders.push_back(stmt->ColumnText(0)); }));
      if (!holders.empty()) {
        std::string list;
        for (std::size_t i = 0; i < holders.size() && i < kNamed; ++i) {
          list += (i == 0 ? "" : ", ") + holders[i];
        }
        if (holders.size() > kNamed) list += " and others";
        return FailedPrecondition("role '" + name + "' is still held by " + list);
      }
    }
    for (const char* sql :
         {kRoleLogins.remove, kRoleLabels.remove, "DELETE FROM roles WHERE name = ?1"}) {
      GATE_RETURN_IF_ERROR(RunWithText(db, sql, name));
    }
    return Status::Ok();
  });
}

// --- Locks -----------------------------------------------------------------------

Status SqliteStore::SetLock(const LockRecord& lock) {
  if (lock.user.empty()) return InvalidArgument("lock user must not be empty");
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    Result<Stmt> stmt = Stmt::Prepare(
        db, InsertSql("locks", kLocks) +
                " ON CONFLICT (user_name) DO UPDATE SET expires_at = excluded.expires_at,"
                " message = excluded.message, created_at = excluded.created_at");
    if (!stmt) return stmt.error();
    BindRow(*stmt, kLocks, lock);
    return stmt->Insert(Internal("sqlite: unexpected conflict on locks"), UserNotFound(lock.user));
  });
}

Status SqliteStore::DeleteLock(const std::string& user) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    Result<Stmt> stmt = Stmt::Prepare(db, "DELETE FROM locks WHERE user_name = ?1");
    if (!stmt) return stmt.error();
    return ChangeOne(stmt->Text(1, user), NotFound("user '" + user + "' is not locked"));
  });
}

Result<std::vector<LockRecord>> SqliteStore::ListLocks() {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) -> Result<std::vector<LockRecord>> {
    Result<Stmt> stmt = Stmt::Prepare(db, SelectSql("locks", kLocks, "ORDER BY user_name"));
    if (!stmt) return Err(stmt.error());
    std::vector<LockRecord> locks;
    GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] { locks.push_back(ReadRow(*stmt, kLocks)); }));
    return locks;
  });
}

}  // namespace gate::ca::sqlite
