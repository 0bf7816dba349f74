// UserStore on SQLite: users, their logins and roles (child tables), and
// login bookkeeping.
#include <array>
#include <map>
#include <utility>

#include "ca-server/store/sqlite_columns.h"
#include "ca-server/store/sqlite_store.h"

namespace gate::ca::sqlite {
namespace {

// The OTP secret and step are not here: they live in the user's first TOTP
// device (mfa_devices), which LoadUser and the lists read.
constexpr std::array<Column<UserRecord>, 5> kUserColumns = {{
    Field<&UserRecord::name>("name"),
    Field<&UserRecord::created_at>("created_at"),
    Field<&UserRecord::password_hash>("password_hash"),
    Field<&UserRecord::connector>("connector"),
    Field<&UserRecord::idp_subject>("idp_subject"),
}};
constexpr Columns<UserRecord> kUsers(kUserColumns);

constexpr std::array<Column<LoginFailures>, 5> kLoginFailureColumns = {{
    Field<&LoginFailures::user>("user_name"),
    Field<&LoginFailures::source>("source"),
    Field<&LoginFailures::count>("count"),
    Field<&LoginFailures::window_start>("window_start"),
    Field<&LoginFailures::blocked_until>("blocked_until"),
}};
constexpr Columns<LoginFailures> kLoginFailures(kLoginFailureColumns);

// Fills the OTP fields of the users in by_name from their first TOTP device,
// reading the devices of users whose names are in (after, last] ("" = no
// bound).
Status FillTotp(sqlite3* db, std::map<std::string, UserRecord*, std::less<>>& by_name,
                const std::string& after, const std::string& last) {
  Result<Stmt> stmt = Stmt::Prepare(db, std::string(kSelectTotpDevices) +
                                            " AND user_name > ?1 AND (?2 = '' OR user_name <= ?2)"
                                            " ORDER BY user_name, created_at DESC, rowid DESC");
  if (!stmt) return stmt.error();
  stmt->Text(1, after).Text(2, last);
  // Newest first within a user, so the last one assigned is the oldest.
  return stmt->ForEachRow([&] {
    if (auto it = by_name.find(stmt->ColumnText(0)); it != by_name.end()) {
      it->second->totp_secret = stmt->ColumnSecret(1);
      it->second->last_totp_step = stmt->ColumnInt(2);
    }
  });
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
  Result<TotpDevice> totp = LoadFirstTotpDevice(db, name);
  if (!totp) return Err(totp.error());
  user.totp_secret = std::move(totp->secret);
  user.last_totp_step = totp->last_step;
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
    GATE_RETURN_IF_ERROR(StoreList(db, kUserRoles, user.name, user.roles));
    if (user.totp_secret.empty()) return Status::Ok();
    MfaDevice otp;
    otp.user = user.name;
    otp.name = "otp";
    otp.kind = DeviceKind::kTotp;
    otp.created_at = user.created_at;
    otp.totp_secret = user.totp_secret;
    otp.last_totp_step = user.last_totp_step;
    return InsertDevice(db, otp);
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
    std::map<std::string, UserRecord*, std::less<>> by_name;
    for (UserRecord& user : users) {
      if (auto it = logins->find(user.name); it != logins->end()) user.logins = it->second;
      if (auto it = roles->find(user.name); it != roles->end()) user.roles = it->second;
      by_name[user.name] = &user;
    }
    GATE_RETURN_IF_ERROR(FillTotp(db, by_name, "", ""));
    return users;
  });
}

Result<std::vector<UserRecord>> SqliteStore::ListUsersAfter(const std::string& after,
                                                            std::size_t limit) {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) -> Result<std::vector<UserRecord>> {
    std::vector<UserRecord> users;
    {
      Result<Stmt> stmt =
          Stmt::Prepare(db, SelectSql("users", kUsers, "WHERE name > ?1 ORDER BY name LIMIT ?2"));
      if (!stmt) return Err(stmt.error());
      stmt->Text(1, after).Int(2, static_cast<std::int64_t>(limit));
      GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] { users.push_back(ReadRow(*stmt, kUsers)); }));
    }
    if (users.empty()) return users;
    // The page's children in one range scan each, not two queries per user.
    std::map<std::string, UserRecord*, std::less<>> by_name;
    for (UserRecord& user : users) by_name[user.name] = &user;
    for (const auto& query :
         {std::pair{"SELECT user_name, login FROM user_logins WHERE user_name > ?1 AND "
                    "user_name <= ?2 ORDER BY user_name, position",
                    &UserRecord::logins},
          std::pair{"SELECT user_name, role FROM user_roles WHERE user_name > ?1 AND "
                    "user_name <= ?2 ORDER BY user_name, position",
                    &UserRecord::roles}}) {
      // Not a structured binding: clang before 16 cannot capture one in the
      // lambda below (the fuzzers are built with clang).
      const auto list = query.second;
      Result<Stmt> stmt = Stmt::Prepare(db, query.first);
      if (!stmt) return Err(stmt.error());
      stmt->Text(1, after).Text(2, users.back().name);
      GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] {
        if (auto it = by_name.find(stmt->ColumnText(0)); it != by_name.end()) {
          (it->second->*list).push_back(stmt->ColumnText(1));
        }
      }));
    }
    GATE_RETURN_IF_ERROR(FillTotp(db, by_name, after, users.back().name));
    return users;
  });
}

Status SqliteStore::DeleteUser(const std::string& name) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    // Children first and explicitly, so correctness does not hinge on the
    // foreign_keys pragma (ON DELETE CASCADE would do the same).
    for (const char* sql :
         {kUserLogins.remove, kUserRoles.remove, "DELETE FROM signup_tokens WHERE user_name = ?1",
          "DELETE FROM locks WHERE user_name = ?1", kDeleteUserDevices}) {
      GATE_RETURN_IF_ERROR(RunWithText(db, sql, name));
    }
    Result<Stmt> stmt = Stmt::Prepare(db, "DELETE FROM users WHERE name = ?1");
    if (!stmt) return stmt.error();
    return ChangeOne(stmt->Text(1, name), UserNotFound(name));
  });
}

Status SqliteStore::ResetUserCredentials(const std::string& name) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    Result<Stmt> stmt = Stmt::Prepare(db, "UPDATE users SET password_hash = '' WHERE name = ?1");
    if (!stmt) return stmt.error();
    GATE_RETURN_IF_ERROR(ChangeOne(stmt->Text(1, name), UserNotFound(name)));
    GATE_RETURN_IF_ERROR(RunWithText(db, kDeleteUserDevices, name));
    GATE_RETURN_IF_ERROR(RunWithText(db, kClearUserLoginFailures, name));
    // New credentials are to be chosen: nobody stays logged in with the old.
    GATE_RETURN_IF_ERROR(RunWithText(db, "DELETE FROM web_sessions WHERE user_name = ?1", name));
    return RunWithText(db, kDeleteUnusedSignupTokens, name);
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

Result<UserRecord> SqliteStore::UpsertSsoUser(const UserRecord& user) {
  if (user.name.empty() || user.connector.empty() || user.idp_subject.empty()) {
    return Err(InvalidArgument("a connector's user needs a name, connector and subject"));
  }
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Result<UserRecord> {
    Result<UserRecord> existing = LoadUser(db, user.name);
    if (existing) {
      if (!existing->sso()) {
        return Err(AlreadyExists("user " + user.name +
                                 " is a local user; a connector cannot log in as it"));
      }
      if (existing->connector != user.connector || existing->idp_subject != user.idp_subject) {
        return Err(AlreadyExists("user " + user.name +
                                 " belongs to another identity at connector " +
                                 existing->connector));
      }
    } else if (existing.error().code() != Code::kNotFound) {
      return existing;
    } else {
      UserRecord fresh;
      fresh.name = user.name;
      fresh.created_at = user.created_at;
      fresh.connector = user.connector;
      fresh.idp_subject = user.idp_subject;
      Result<Stmt> stmt = Stmt::Prepare(db, InsertSql("users", kUsers));
      if (!stmt) return Err(stmt.error());
      BindRow(*stmt, kUsers, fresh);
      GATE_RETURN_IF_ERROR(stmt->Insert(AlreadyExists("user '" + user.name + "' already exists"),
                                        Internal("sqlite: unexpected foreign key violation")));
    }
    GATE_RETURN_IF_ERROR(StoreList(db, kUserLogins, user.name, user.logins));
    GATE_RETURN_IF_ERROR(StoreList(db, kUserRoles, user.name, user.roles));
    return LoadUser(db, user.name);
  });
}

// --- Login bookkeeping ----------------------------------------------------------

Result<LoginFailures> SqliteStore::GetLoginFailures(const std::string& user,
                                                    const std::string& source) {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) -> Result<LoginFailures> {
    Result<Stmt> stmt = Stmt::Prepare(
        db, SelectSql("login_failures", kLoginFailures, "WHERE user_name = ?1 AND source = ?2"));
    if (!stmt) return Err(stmt.error());
    Result<bool> row = stmt->Text(1, user).Text(2, source).Step();
    if (!row) return Err(row.error());
    if (*row) return ReadRow(*stmt, kLoginFailures);
    LoginFailures none;
    none.user = user;
    none.source = source;
    return none;
  });
}

Status SqliteStore::PutLoginFailures(const LoginFailures& failures) {
  if (failures.count < 0) return InvalidArgument("login failure count must not be negative");
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    Result<Stmt> stmt = Stmt::Prepare(
        db, InsertSql("login_failures", kLoginFailures) +
                " ON CONFLICT (user_name, source) DO UPDATE SET count = excluded.count,"
                " window_start = excluded.window_start, blocked_until = excluded.blocked_until");
    if (!stmt) return stmt.error();
    return BindRow(*stmt, kLoginFailures, failures).Run();
  });
}

Status SqliteStore::ClearLoginFailures(const std::string& user, const std::string& source) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    Result<Stmt> stmt =
        Stmt::Prepare(db, "DELETE FROM login_failures WHERE user_name = ?1 AND source = ?2");
    if (!stmt) return stmt.error();
    return stmt->Text(1, user).Text(2, source).Run();
  });
}

Status SqliteStore::PruneLoginFailures(std::int64_t window_before, std::int64_t blocked_before) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    Result<Stmt> stmt = Stmt::Prepare(
        db, "DELETE FROM login_failures WHERE window_start < ?1 AND blocked_until <= ?2");
    if (!stmt) return stmt.error();
    return stmt->Int(1, window_before).Int(2, blocked_before).Run();
  });
}

Result<bool> SqliteStore::ConsumeTotpStep(const std::string& name, std::int64_t step) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Result<bool> {
    // The comparison is in the UPDATE itself, so the check and the write are
    // one step even for another process sharing the file.
    Result<Stmt> stmt = Stmt::Prepare(
        db,
        "UPDATE mfa_devices SET last_totp_step = ?2 WHERE rowid = (SELECT rowid FROM mfa_devices"
        " WHERE user_name = ?1 AND kind = 'totp' ORDER BY created_at, rowid LIMIT 1)"
        " AND last_totp_step < ?2");
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
