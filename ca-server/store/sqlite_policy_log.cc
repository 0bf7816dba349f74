// PolicyLogStore on SQLite. The revision moves in triggers (schema version
// 7, sqlite_schema.cc) on every table a node's policy is built from, so it
// moves in the transaction of the change whoever makes it: a store method,
// or a tool writing rows straight into the file.
#include "ca-server/store/sqlite_store.h"

namespace gate::ca::sqlite {

Result<PolicyRevision> SqliteStore::GetPolicyRevision() {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) -> Result<PolicyRevision> {
    Result<Stmt> stmt =
        Stmt::Prepare(db, "SELECT revision, oldest FROM policy_revision WHERE id = 1");
    if (!stmt) return Err(stmt.error());
    Result<bool> row = stmt->Step();
    if (!row) return Err(row.error());
    if (!*row) return Err(DataLoss("sqlite: the policy revision row is missing"));
    return PolicyRevision{stmt->ColumnInt(0), stmt->ColumnInt(1)};
  });
}

Result<std::vector<PolicyChange>> SqliteStore::ListPolicyChanges(std::int64_t since,
                                                                 std::size_t limit) {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) -> Result<std::vector<PolicyChange>> {
    Result<Stmt> stmt = Stmt::Prepare(db,
                                      "SELECT revision, kind, name FROM policy_changes"
                                      " WHERE revision > ?1 ORDER BY revision LIMIT ?2");
    if (!stmt) return Err(stmt.error());
    stmt->Int(1, since).Int(2, static_cast<std::int64_t>(limit));
    std::vector<PolicyChange> changes;
    GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] {
      changes.push_back({stmt->ColumnInt(0), stmt->ColumnText(1), stmt->ColumnText(2)});
    }));
    return changes;
  });
}

Status SqliteStore::PrunePolicyChanges(std::int64_t keep) {
  if (keep < 1) return InvalidArgument("policy log: keep at least one revision");
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    {
      Result<Stmt> stmt = Stmt::Prepare(
          db, "UPDATE policy_revision SET oldest = MAX(oldest, revision - ?1) WHERE id = 1");
      if (!stmt) return stmt.error();
      GATE_RETURN_IF_ERROR(
          ChangeOne(stmt->Int(1, keep), DataLoss("sqlite: the policy revision row is missing")));
    }
    Result<Stmt> stmt = Stmt::Prepare(
        db,
        "DELETE FROM policy_changes WHERE revision <= (SELECT oldest FROM policy_revision"
        " WHERE id = 1)");
    if (!stmt) return stmt.error();
    return stmt->Run();
  });
}

}  // namespace gate::ca::sqlite
