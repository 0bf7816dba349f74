// AuditStore on SQLite: the append-only audit table (triggers refuse UPDATE
// and DELETE; see sqlite_schema.cc).
#include <algorithm>
#include <array>
#include <limits>

#include "ca-server/store/sqlite_columns.h"
#include "ca-server/store/sqlite_store.h"

namespace gate::ca::sqlite {
namespace {

constexpr std::array<Column<AuditEvent>, 6> kAuditColumns = {{
    Field<&AuditEvent::time>("time"),
    Field<&AuditEvent::event>("event"),
    Field<&AuditEvent::user>("user_name"),
    Field<&AuditEvent::source>("source"),
    Field<&AuditEvent::success>("success"),
    Field<&AuditEvent::detail>("detail"),
}};
constexpr Columns<AuditEvent> kAudit(kAuditColumns);

}  // namespace

Status SqliteStore::AppendAudit(const AuditEvent& event) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    Result<Stmt> stmt = Stmt::Prepare(db, InsertSql("audit", kAudit));
    if (!stmt) return stmt.error();
    return BindRow(*stmt, kAudit, event).Run();
  });
}

Result<std::vector<AuditEvent>> SqliteStore::ListAudit(const AuditQuery& query) {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) -> Result<std::vector<AuditEvent>> {
    // Newest first by append order (id), not by `time`: the clock can step
    // backwards, the order of appends cannot. The prefix is compared with
    // substr, not LIKE, so '%' and '_' in it mean themselves.
    Result<Stmt> stmt = Stmt::Prepare(db, SelectSql("audit", kAudit,
                                                    "WHERE (?2 = '' OR user_name = ?2)"
                                                    " AND substr(event, 1, length(?3)) = ?3"
                                                    " AND time >= ?4 AND (?5 < 0 OR success = ?5)"
                                                    " ORDER BY id DESC LIMIT ?1"));
    if (!stmt) return Err(stmt.error());
    constexpr auto kMaxLimit = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    stmt->Int(1, static_cast<std::int64_t>(std::min(query.limit, kMaxLimit)))
        .Text(2, query.user)
        .Text(3, query.event_prefix)
        .Int(4, query.since)
        .Int(5, query.success.has_value() ? (*query.success ? 1 : 0) : -1);
    std::vector<AuditEvent> events;
    GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] { events.push_back(ReadRow(*stmt, kAudit)); }));
    return events;
  });
}

}  // namespace gate::ca::sqlite
