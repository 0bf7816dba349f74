// SessionStore on SQLite: the index of recorded sessions.
#include <algorithm>
#include <array>
#include <limits>

#include "ca-server/store/sqlite_columns.h"
#include "ca-server/store/sqlite_store.h"
#include "gate/json.h"

namespace gate::ca::sqlite {
namespace {

constexpr std::array<Column<SessionRecord>, 16> kSessionColumns = {{
    Field<&SessionRecord::id>("id"),
    Field<&SessionRecord::user>("user_name"),
    Field<&SessionRecord::login>("login"),
    Field<&SessionRecord::host_uuid>("host_uuid"),
    Field<&SessionRecord::node_name>("node_name"),
    Field<&SessionRecord::mode>("mode"),
    Field<&SessionRecord::started_at>("started_at"),
    Field<&SessionRecord::ended_at>("ended_at"),
    Field<&SessionRecord::live>("live"),
    Field<&SessionRecord::size>("size"),
    Field<&SessionRecord::created_at>("created_at"),
    Field<&SessionRecord::completed_at>("completed_at"),
    Field<&SessionRecord::sha256>("sha256"),
    Field<&SessionRecord::verified>("verified"),
    Field<&SessionRecord::verify_detail>("verify_detail"),
    Field<&SessionRecord::exit>("exit_data"),
}};
constexpr Columns<SessionRecord> kSessions(kSessionColumns);

// What CompleteSession writes, after id (?1).
constexpr std::array<Column<SessionRecord>, 7> kCompletionColumns = {{
    Field<&SessionRecord::ended_at>("ended_at"),
    Field<&SessionRecord::size>("size"),
    Field<&SessionRecord::completed_at>("completed_at"),
    Field<&SessionRecord::sha256>("sha256"),
    Field<&SessionRecord::verified>("verified"),
    Field<&SessionRecord::verify_detail>("verify_detail"),
    Field<&SessionRecord::exit>("exit_data"),
}};
constexpr Columns<SessionRecord> kCompletion(kCompletionColumns);

Status SessionNotFound(const std::string& id) { return NotFound("session '" + id + "' not found"); }

std::int64_t SqlLimit(std::size_t limit) {
  return static_cast<std::int64_t>(
      std::min(limit, static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())));
}

}  // namespace

Status SqliteStore::CreateSession(const SessionRecord& session) {
  if (session.id.empty()) return InvalidArgument("session id must not be empty");
  if (session.size < 0) return InvalidArgument("session size must not be negative");
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    Result<Stmt> stmt = Stmt::Prepare(db, InsertSql("sessions", kSessions));
    if (!stmt) return stmt.error();
    BindRow(*stmt, kSessions, session);
    return stmt->Insert(AlreadyExists("session '" + session.id + "' already exists"),
                        Internal("sqlite: unexpected foreign key violation"));
  });
}

Result<SessionRecord> SqliteStore::GetSession(const std::string& id) {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) -> Result<SessionRecord> {
    Result<Stmt> stmt = Stmt::Prepare(db, SelectSql("sessions", kSessions, "WHERE id = ?1"));
    if (!stmt) return Err(stmt.error());
    Result<bool> row = stmt->Text(1, id).Step();
    if (!row) return Err(row.error());
    if (!*row) return Err(SessionNotFound(id));
    return ReadRow(*stmt, kSessions);
  });
}

Result<std::vector<SessionRecord>> SqliteStore::ListSessionsCompletedBefore(std::int64_t before,
                                                                            std::size_t limit) {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) -> Result<std::vector<SessionRecord>> {
    Result<Stmt> stmt = Stmt::Prepare(
        db, SelectSql("sessions", kSessions,
                      "WHERE live = 0 AND completed_at < ?1 ORDER BY completed_at, id LIMIT ?2"));
    if (!stmt) return Err(stmt.error());
    stmt->Int(1, before).Int(2, SqlLimit(limit));
    std::vector<SessionRecord> sessions;
    GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] { sessions.push_back(ReadRow(*stmt, kSessions)); }));
    return sessions;
  });
}

Status SqliteStore::DeleteSession(const std::string& id) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    Result<Stmt> stmt = Stmt::Prepare(db, "DELETE FROM sessions WHERE id = ?1");
    if (!stmt) return stmt.error();
    return ChangeOne(stmt->Text(1, id), SessionNotFound(id));
  });
}

Status SqliteStore::SetSessionSize(const std::string& id, std::int64_t size) {
  if (size < 0) return InvalidArgument("session size must not be negative");
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    Result<Stmt> stmt = Stmt::Prepare(db, "UPDATE sessions SET size = ?2 WHERE id = ?1");
    if (!stmt) return stmt.error();
    return ChangeOne(stmt->Text(1, id).Int(2, size), SessionNotFound(id));
  });
}

Status SqliteStore::CompleteSession(const SessionRecord& session) {
  if (session.size < 0) return InvalidArgument("session size must not be negative");
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    std::string sets = "live = 0";
    for (std::size_t i = 0; i < kCompletion.size(); ++i) {
      sets += ", " + std::string(kCompletion[i].name) + " = ?" + std::to_string(i + 2);
    }
    Result<Stmt> stmt = Stmt::Prepare(db, "UPDATE sessions SET " + sets + " WHERE id = ?1");
    if (!stmt) return stmt.error();
    stmt->Text(1, session.id);
    BindRow(*stmt, kCompletion, session, 2);
    return ChangeOne(*stmt, SessionNotFound(session.id));
  });
}

Result<std::vector<SessionRecord>> SqliteStore::ListSessions(const SessionFilter& filter) {
  // One statement for every filter: a filter that is off binds a value that
  // makes its clause true, so no SQL text is ever assembled from input.
  // The visible nodes travel as one JSON array through json_each.
  std::string nodes_json = "[]";
  if (filter.visible_to) {
    Json::Value nodes(Json::arrayValue);
    for (const auto& n : filter.visible_to->nodes) nodes.append(n);
    nodes_json = json::Write(nodes);
  }
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) -> Result<std::vector<SessionRecord>> {
    Result<Stmt> stmt =
        Stmt::Prepare(db, SelectSql("sessions", kSessions,
                                    "WHERE (?1 < 0 OR live = ?1)"
                                    " AND (?2 = '' OR user_name = ?2)"
                                    " AND (?3 = '' OR host_uuid = ?3 OR node_name = ?3)"
                                    " AND (started_at >= ?4 OR live = 1)"
                                    " AND (?5 = 0 OR user_name = ?6"
                                    "      OR host_uuid IN (SELECT value FROM json_each(?7)))"
                                    " ORDER BY started_at DESC, id DESC LIMIT ?8"));
    if (!stmt) return Err(stmt.error());
    stmt->Int(1, filter.live ? (*filter.live ? 1 : 0) : -1)
        .Text(2, filter.user)
        .Text(3, filter.node)
        .Int(4, filter.since)
        .Int(5, filter.visible_to ? 1 : 0)
        .Text(6, filter.visible_to ? filter.visible_to->owner : std::string())
        .Text(7, nodes_json)
        .Int(8, SqlLimit(filter.limit));
    std::vector<SessionRecord> sessions;
    GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] { sessions.push_back(ReadRow(*stmt, kSessions)); }));
    return sessions;
  });
}

Result<std::int64_t> SqliteStore::CountLiveSessions(const std::string& host_uuid) {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) -> Result<std::int64_t> {
    Result<Stmt> stmt =
        Stmt::Prepare(db, "SELECT count(*) FROM sessions WHERE host_uuid = ?1 AND live = 1");
    if (!stmt) return Err(stmt.error());
    Result<bool> row = stmt->Text(1, host_uuid).Step();
    if (!row) return Err(row.error());
    if (!*row) return Err(Internal("sqlite: count returned no row"));
    return stmt->ColumnInt(0);
  });
}

}  // namespace gate::ca::sqlite
