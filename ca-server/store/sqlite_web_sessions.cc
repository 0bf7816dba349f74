// WebSessionStore on SQLite: browser sessions, stored by hash.
#include <array>

#include "ca-server/store/sqlite_columns.h"
#include "ca-server/store/sqlite_store.h"

namespace gate::ca::sqlite {
namespace {

constexpr std::array<Column<WebSessionRecord>, 7> kWebSessionColumns = {{
    Field<&WebSessionRecord::id_hash>("id_hash"),
    Field<&WebSessionRecord::user>("user_name"),
    Field<&WebSessionRecord::csrf_hash>("csrf_hash"),
    Field<&WebSessionRecord::created_at>("created_at"),
    Field<&WebSessionRecord::last_seen_at>("last_seen_at"),
    Field<&WebSessionRecord::expires_at>("expires_at"),
    Field<&WebSessionRecord::source>("source"),
}};
constexpr Columns<WebSessionRecord> kWebSessions(kWebSessionColumns);

}  // namespace

Status SqliteStore::CreateWebSession(const WebSessionRecord& session) {
  if (session.id_hash.empty() || session.csrf_hash.empty()) {
    return InvalidArgument("web session hashes must not be empty");
  }
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    Result<Stmt> stmt = Stmt::Prepare(db, InsertSql("web_sessions", kWebSessions));
    if (!stmt) return stmt.error();
    BindRow(*stmt, kWebSessions, session);
    return stmt->Insert(AlreadyExists("web session already exists"), UserNotFound(session.user));
  });
}

Result<WebSessionRecord> SqliteStore::GetWebSession(const std::string& id_hash) {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) -> Result<WebSessionRecord> {
    Result<Stmt> stmt =
        Stmt::Prepare(db, SelectSql("web_sessions", kWebSessions, "WHERE id_hash = ?1"));
    if (!stmt) return Err(stmt.error());
    Result<bool> row = stmt->Text(1, id_hash).Step();
    if (!row) return Err(row.error());
    if (!*row) return Err(NotFound("web session not found"));
    return ReadRow(*stmt, kWebSessions);
  });
}

Result<std::vector<WebSessionRecord>> SqliteStore::ListUserWebSessions(const std::string& user) {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) -> Result<std::vector<WebSessionRecord>> {
    Result<Stmt> stmt =
        Stmt::Prepare(db, SelectSql("web_sessions", kWebSessions,
                                    "WHERE user_name = ?1 ORDER BY created_at, id_hash"));
    if (!stmt) return Err(stmt.error());
    stmt->Text(1, user);
    std::vector<WebSessionRecord> out;
    GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] { out.push_back(ReadRow(*stmt, kWebSessions)); }));
    return out;
  });
}

Status SqliteStore::TouchWebSession(const std::string& id_hash, std::int64_t last_seen_at) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    Result<Stmt> stmt =
        Stmt::Prepare(db, "UPDATE web_sessions SET last_seen_at = ?2 WHERE id_hash = ?1");
    if (!stmt) return stmt.error();
    return ChangeOne(stmt->Text(1, id_hash).Int(2, last_seen_at),
                     NotFound("web session not found"));
  });
}

Status SqliteStore::DeleteWebSession(const std::string& id_hash) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    return RunWithText(db, "DELETE FROM web_sessions WHERE id_hash = ?1", id_hash);
  });
}

Status SqliteStore::DeleteUserWebSessions(const std::string& user) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    return RunWithText(db, "DELETE FROM web_sessions WHERE user_name = ?1", user);
  });
}

Result<int> SqliteStore::DeleteStaleWebSessions(std::int64_t expired_by, std::int64_t idle_since) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Result<int> {
    Result<Stmt> stmt =
        Stmt::Prepare(db, "DELETE FROM web_sessions WHERE expires_at <= ?1 OR last_seen_at <= ?2");
    if (!stmt) return Err(stmt.error());
    return stmt->Int(1, expired_by).Int(2, idle_since).Change();
  });
}

}  // namespace gate::ca::sqlite
