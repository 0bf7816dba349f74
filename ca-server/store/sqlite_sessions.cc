// SessionStore on SQLite: the index of recorded sessions.
#include <algorithm>
#include <array>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

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

namespace {

// How many of the newest sessions a list looks at first. A page that fills
// from them (an admin's view, a busy node) costs at most this many row
// reads; otherwise the list asks the indexes for every match and sorts
// them, which is cheap exactly when matches are rare.
constexpr std::int64_t kRecentWindow = 4096;

// SQL text with its binds in the order of their `?`s. Built from constant
// fragments only: input is always bound, never part of the text.
struct Sql {
  std::string text;
  std::vector<std::function<void(Stmt&, int)>> binds;

  Sql& Add(std::string_view fragment) {
    text += fragment;
    return *this;
  }
  Sql& Add(const Sql& other) {
    text += other.text;
    binds.insert(binds.end(), other.binds.begin(), other.binds.end());
    return *this;
  }
  Sql& Text(std::string value) {
    binds.push_back([v = std::move(value)](Stmt& stmt, int i) { stmt.Text(i, v); });
    return *this;
  }
  Sql& Int(std::int64_t value) {
    binds.push_back([value](Stmt& stmt, int i) { stmt.Int(i, value); });
    return *this;
  }
  void Bind(Stmt& stmt) const {
    int i = 1;
    for (const auto& bind : binds) bind(stmt, i++);
  }
};

// A conjunction: each filter that is off adds nothing, so SQLite sees only
// the clauses in force and can pick an index for them; `live` is a literal
// so the partial index of live sessions applies.
struct Conditions {
  Sql sql;
  void And(std::string_view clause) { sql.Add(sql.text.empty() ? "" : " AND ").Add(clause); }
  Sql Where() const {
    Sql where;
    if (!sql.text.empty()) where.Add(" WHERE ").Add(sql);
    return where;
  }
};

void AddCursor(Conditions& c, const SessionFilter::Cursor& before) {
  c.And("(started_at < ? OR (started_at = ? AND id < ?))");
  c.sql.Int(before.started_at).Int(before.started_at).Text(before.id);
}

Conditions ListConditions(const SessionFilter& filter) {
  Conditions c;
  if (filter.live) c.And(*filter.live ? "live = 1" : "live = 0");
  if (!filter.user.empty()) {
    c.And("user_name = ?");
    c.sql.Text(filter.user);
  }
  if (!filter.node.empty()) {
    c.And("(host_uuid = ? OR node_name = ?)");
    c.sql.Text(filter.node).Text(filter.node);
  }
  if (filter.since > 0) {
    c.And("(started_at >= ? OR live = 1)");
    c.sql.Int(filter.since);
  }
  if (filter.before) AddCursor(c, *filter.before);
  if (filter.visible_to) {
    if (filter.visible_to->nodes.empty()) {
      c.And("user_name = ?");
      c.sql.Text(filter.visible_to->owner);
    } else {
      // The visible nodes travel as one JSON array through json_each.
      Json::Value nodes(Json::arrayValue);
      for (const auto& n : filter.visible_to->nodes) nodes.append(n);
      c.And("(user_name = ? OR host_uuid IN (SELECT value FROM json_each(?)))");
      c.sql.Text(filter.visible_to->owner).Text(json::Write(nodes));
    }
  }
  return c;
}

constexpr std::string_view kNewestFirst = " ORDER BY started_at DESC, id DESC LIMIT ?";

}  // namespace

Result<std::vector<SessionRecord>> SqliteStore::ListSessions(const SessionFilter& filter) {
  const Conditions conditions = ListConditions(filter);
  const std::int64_t limit = SqlLimit(filter.limit);
  const std::string select = SelectSql("sessions", kSessions, "");

  // First the newest sessions (after the cursor) only: they are a prefix
  // of the list's order, so a page that fills from them is the page.
  Conditions after_cursor;
  if (filter.before) AddCursor(after_cursor, *filter.before);
  Sql window;
  window.Add("SELECT rowid FROM sessions INDEXED BY sessions_by_start")
      .Add(after_cursor.Where())
      .Add(kNewestFirst)
      .Int(kRecentWindow);
  Sql recent;
  recent.Add(select).Add("WHERE rowid IN (").Add(window).Add(")");
  if (!conditions.sql.text.empty()) recent.Add(" AND ").Add(conditions.sql);
  recent.Add(kNewestFirst).Int(limit);

  Sql all;
  all.Add(select).Add(conditions.Where()).Add(kNewestFirst).Int(limit);

  return Run(Transaction::Kind::kRead, [&](sqlite3* db) -> Result<std::vector<SessionRecord>> {
    auto read = [&](const Sql& sql) -> Result<std::vector<SessionRecord>> {
      Result<Stmt> stmt = Stmt::Prepare(db, sql.text);
      if (!stmt) return Err(stmt.error());
      sql.Bind(*stmt);
      std::vector<SessionRecord> sessions;
      GATE_RETURN_IF_ERROR(
          stmt->ForEachRow([&] { sessions.push_back(ReadRow(*stmt, kSessions)); }));
      return sessions;
    };
    auto page = read(recent);
    if (!page || static_cast<std::int64_t>(page->size()) >= limit) return page;
    return read(all);
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
