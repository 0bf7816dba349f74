// UserStore on SQLite: users, their logins and roles (child tables), and
// login bookkeeping.
#include <array>
#include <limits>

#include "ca-server/store/sqlite_columns.h"
#include "ca-server/store/sqlite_store.h"

namespace gate::ca::sqlite {
namespace {

constexpr std::array<Column<UserRecord>, 7> kUserColumns = {{
    Field<&UserRecord::name>("name"),
    Field<&UserRecord::created_at>("created_at"),
    Field<&UserRecord::password_hash>("password_hash"),
    Field<&UserRecord::totp_secret>("totp_secret"),
    Field<&UserRecord::failed_attempts>("failed_attempts"),
    Field<&UserRecord::locked_until>("locked_until"),
    Field<&UserRecord::last_totp_step>("last_totp_step"),
}};
constexpr Columns<UserRecord> kUsers(kUserColumns);

std::int64_t SaturatingAdd(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<std::int64_t>::max()
                 : std::numeric_limits<std::int64_t>::min();
  }
  return sum;
}

}  // namespace

Result<UserRecord> LoadUser(sqlite3* db, const std::string& name) {
  Result<Stmt> stmt = Stmt::Prepare(db, SelectSql("users", kUsers, "WHERE name = ?1"));
  if (!stmt) return Err(stmt.error());
  Result<bool> row = stmt->Text(1, name).Step();
  if (!row) return Err(row.error());
  if (!*row) return Err(UserNotFound(name));
  UserRecord user = ReadRow(*stmt, kUsers);
  Result<std::vector<std::string>> logins = LoadList(db, kUserLogins, name);
  if (!logins) return Err(logins.error());
  Result<std::vector<std::string>> roles = LoadList(db, kUserRoles, name);
  if (!roles) return Err(roles.error());
  user.logins = *std::move(logins);
  user.roles = *std::move(roles);
  return user;
}

Status SqliteStore::CreateUser(const UserRecord& user) {
  if (user.name.empty()) return InvalidArgument("user name must not be empty");
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    {
      Result<Stmt> stmt = Stmt::Prepare(db, InsertSql("users", kUsers));
      if (!stmt) return stmt.error();
      BindRow(*stmt, kUsers, user);
      GATE_RETURN_IF_ERROR(stmt->Insert(AlreadyExists("user '" + user.name + "' already exists"),
                                        Internal("sqlite: unexpected foreign key violation")));
    }
    GATE_RETURN_IF_ERROR(StoreList(db, kUserLogins, user.name, user.logins));
    return StoreList(db, kUserRoles, user.name, user.roles);
  });
}

Result<UserRecord> SqliteStore::GetUser(const std::string& name) {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) { return LoadUser(db, name); });
}

Result<std::vector<UserRecord>> SqliteStore::ListUsers() {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) -> Result<std::vector<UserRecord>> {
    std::vector<UserRecord> users;
    {
      Result<Stmt> stmt = Stmt::Prepare(db, SelectSql("users", kUsers, "ORDER BY name"));
      if (!stmt) return Err(stmt.error());
      GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] { users.push_back(ReadRow(*stmt, kUsers)); }));
    }
    auto logins = LoadAllLists(db, kUserLogins);
    if (!logins) return Err(logins.error());
    auto roles = LoadAllLists(db, kUserRoles);
    if (!roles) return Err(roles.error());
    for (UserRecord& user : users) {
      if (auto it = logins->find(user.name); it != logins->end()) user.logins = it->second;
      if (auto it = roles->find(user.name); it != roles->end()) user.roles = it->second;
    }
    return users;
  });
}

Status SqliteStore::DeleteUser(const std::string& name) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    // Children first and explicitly, so correctness does not hinge on the
    // foreign_keys pragma (ON DELETE CASCADE would do the same).
    for (const char* sql :
         {kUserLogins.remove, kUserRoles.remove, "DELETE FROM signup_tokens WHERE user_name = ?1",
          "DELETE FROM locks WHERE user_name = ?1"}) {
      GATE_RETURN_IF_ERROR(RunWithText(db, sql, name));
    }
    Result<Stmt> stmt = Stmt::Prepare(db, "DELETE FROM users WHERE name = ?1");
    if (!stmt) return stmt.error();
    return ChangeOne(stmt->Text(1, name), UserNotFound(name));
  });
}

Status SqliteStore::ResetUserCredentials(const std::string& name) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    Result<Stmt> stmt = Stmt::Prepare(
        db,
        "UPDATE users SET password_hash = '', totp_secret = NULL, failed_attempts = 0,"
        " locked_until = 0, last_totp_step = -1 WHERE name = ?1");
    if (!stmt) return stmt.error();
    GATE_RETURN_IF_ERROR(ChangeOne(stmt->Text(1, name), UserNotFound(name)));
    return RunWithText(db, "DELETE FROM signup_tokens WHERE user_name = ?1", name);
  });
}

Result<UserRecord> SqliteStore::UpdateUser(const std::string& name,
                                           const std::optional<std::vector<std::string>>& logins,
                                           const std::optional<std::vector<std::string>>& roles) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Result<UserRecord> {
    {
      Result<UserRecord> user = LoadUser(db, name);
      if (!user) return user;
    }
    if (roles) {
      for (const std::string& role : *roles) {
        Result<Stmt> stmt = Stmt::Prepare(db, "SELECT 1 FROM roles WHERE name = ?1");
        if (!stmt) return Err(stmt.error());
        Result<bool> row = stmt->Text(1, role).Step();
        if (!row) return Err(row.error());
        if (!*row) return Err(RoleNotFound(role));
      }
    }
    if (logins) GATE_RETURN_IF_ERROR(StoreList(db, kUserLogins, name, *logins));
    if (roles) GATE_RETURN_IF_ERROR(StoreList(db, kUserRoles, name, *roles));
    return LoadUser(db, name);
  });
}

// --- Login bookkeeping ----------------------------------------------------------

Result<UserRecord> SqliteStore::RecordLoginFailure(const std::string& name, std::int64_t now,
                                                   int lockout_attempts,
                                                   std::int64_t lockout_seconds) {
  if (lockout_attempts < 1) return Err(InvalidArgument("lockout_attempts must be at least 1"));
  if (lockout_seconds < 0) return Err(InvalidArgument("lockout_seconds must not be negative"));
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Result<UserRecord> {
    Result<UserRecord> user = LoadUser(db, name);
    if (!user) return user;
    std::int64_t failed = static_cast<std::int64_t>(user->failed_attempts) + 1;
    std::int64_t locked_until = user->locked_until;
    if (failed >= lockout_attempts) {
      locked_until = SaturatingAdd(now, lockout_seconds);
      failed = 0;
    }
    {
      Result<Stmt> stmt = Stmt::Prepare(
          db, "UPDATE users SET failed_attempts = ?2, locked_until = ?3 WHERE name = ?1");
      if (!stmt) return Err(stmt.error());
      GATE_RETURN_IF_ERROR(stmt->Text(1, name).Int(2, failed).Int(3, locked_until).Run());
    }
    user->failed_attempts = static_cast<int>(failed);
    user->locked_until = locked_until;
    return user;
  });
}

Status SqliteStore::RecordLoginSuccess(const std::string& name) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    Result<Stmt> stmt = Stmt::Prepare(db, "UPDATE users SET failed_attempts = 0 WHERE name = ?1");
    if (!stmt) return stmt.error();
    return ChangeOne(stmt->Text(1, name), UserNotFound(name));
  });
}

Result<bool> SqliteStore::ConsumeTotpStep(const std::string& name, std::int64_t step) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Result<bool> {
    // The comparison is in the UPDATE itself, so the check and the write are
    // one step even for another process sharing the file.
    Result<Stmt> stmt = Stmt::Prepare(
        db, "UPDATE users SET last_totp_step = ?2 WHERE name = ?1 AND last_totp_step < ?2");
    if (!stmt) return Err(stmt.error());
    Result<int> changed = stmt->Text(1, name).Int(2, step).Change();
    if (!changed) return Err(changed.error());
    if (*changed > 0) return true;
    Result<Stmt> exists = Stmt::Prepare(db, "SELECT 1 FROM users WHERE name = ?1");
    if (!exists) return Err(exists.error());
    Result<bool> row = exists->Text(1, name).Step();
    if (!row) return Err(row.error());
    if (!*row) return Err(UserNotFound(name));
    return false;
  });
}

}  // namespace gate::ca::sqlite
