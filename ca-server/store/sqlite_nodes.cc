// NodeStore on SQLite: joined nodes, with their labels in a child table.
#include <array>

#include "ca-server/store/sqlite_columns.h"
#include "ca-server/store/sqlite_store.h"

namespace gate::ca::sqlite {
namespace {

constexpr std::array<Column<NodeRecord>, 9> kNodeColumns = {{
    Field<&NodeRecord::host_uuid>("host_uuid"),
    Field<&NodeRecord::hostname>("hostname"),
    Field<&NodeRecord::host_key>("host_key"),
    Field<&NodeRecord::secret_hash>("secret_hash"),
    Field<&NodeRecord::joined_at>("joined_at"),
    Field<&NodeRecord::last_sync>("last_sync"),
    Field<&NodeRecord::recorder_key>("recorder_key"),
    Field<&NodeRecord::policy_revision>("policy_revision"),
    Field<&NodeRecord::ssh_address>("ssh_address"),
}};
constexpr Columns<NodeRecord> kNodes(kNodeColumns);

Status NodeNotFound(const std::string& uuid) { return NotFound("node '" + uuid + "' not found"); }

// Replaces the node's principals; a name another node holds (the UNIQUE
// constraint, without case) is AlreadyExists naming it, and the caller's
// transaction rolls back.
Status StorePrincipals(sqlite3* db, const std::string& host_uuid,
                       const std::vector<std::string>& principals) {
  GATE_RETURN_IF_ERROR(RunWithText(db, kNodePrincipals.remove, host_uuid));
  for (std::size_t i = 0; i < principals.size(); ++i) {
    Result<Stmt> stmt = Stmt::Prepare(db, kNodePrincipals.insert);
    if (!stmt) return stmt.error();
    stmt->Text(1, host_uuid).Int(2, static_cast<std::int64_t>(i)).Text(3, principals[i]);
    GATE_RETURN_IF_ERROR(
        stmt->Insert(AlreadyExists("host name '" + principals[i] + "' is already another node's"),
                     NodeNotFound(host_uuid)));
  }
  return Status::Ok();
}

Result<NodeRecord> LoadNode(sqlite3* db, const std::string& host_uuid) {
  Result<Stmt> stmt = Stmt::Prepare(db, SelectSql("nodes", kNodes, "WHERE host_uuid = ?1"));
  if (!stmt) return Err(stmt.error());
  Result<bool> row = stmt->Text(1, host_uuid).Step();
  if (!row) return Err(row.error());
  if (!*row) return Err(NodeNotFound(host_uuid));
  NodeRecord node = ReadRow(*stmt, kNodes);
  Result<policy::Labels> labels = LoadLabels(db, kNodeLabels, host_uuid);
  if (!labels) return Err(labels.error());
  node.labels = *std::move(labels);
  Result<std::vector<std::string>> principals = LoadList(db, kNodePrincipals, host_uuid);
  if (!principals) return Err(principals.error());
  node.principals = *std::move(principals);
  return node;
}

// UPDATE nodes SET <column> = ?2 WHERE host_uuid = ?1, for one node.
template <typename Value>
Status SetNodeColumn(sqlite3* db, const char* sql, const std::string& host_uuid,
                     const Value& value) {
  Result<Stmt> stmt = Stmt::Prepare(db, sql);
  if (!stmt) return stmt.error();
  stmt->Text(1, host_uuid);
  BindValue(*stmt, 2, value);
  return ChangeOne(*stmt, NodeNotFound(host_uuid));
}

}  // namespace

Status SqliteStore::CreateNode(const NodeRecord& node) {
  if (node.host_uuid.empty()) return InvalidArgument("host UUID must not be empty");
  if (node.secret_hash.empty()) return InvalidArgument("node secret hash must not be empty");
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    {
      Result<Stmt> stmt = Stmt::Prepare(db, InsertSql("nodes", kNodes));
      if (!stmt) return stmt.error();
      BindRow(*stmt, kNodes, node);
      GATE_RETURN_IF_ERROR(
          stmt->Insert(AlreadyExists("node '" + node.host_uuid + "' already exists"),
                       Internal("sqlite: unexpected foreign key violation")));
    }
    GATE_RETURN_IF_ERROR(StoreLabels(db, kNodeLabels, node.host_uuid, node.labels));
    return StorePrincipals(db, node.host_uuid, node.principals);
  });
}

Result<NodeRecord> SqliteStore::GetNode(const std::string& host_uuid) {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) { return LoadNode(db, host_uuid); });
}

Result<std::vector<NodeRecord>> SqliteStore::ListNodes() {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) -> Result<std::vector<NodeRecord>> {
    std::vector<NodeRecord> nodes;
    {
      Result<Stmt> stmt =
          Stmt::Prepare(db, SelectSql("nodes", kNodes, "ORDER BY hostname, host_uuid"));
      if (!stmt) return Err(stmt.error());
      GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] { nodes.push_back(ReadRow(*stmt, kNodes)); }));
    }
    auto labels = LoadAllLabels(db, kNodeLabels);
    if (!labels) return Err(labels.error());
    auto principals = LoadAllLists(db, kNodePrincipals);
    if (!principals) return Err(principals.error());
    for (auto& node : nodes) {
      if (auto it = labels->find(node.host_uuid); it != labels->end()) node.labels = it->second;
      if (auto it = principals->find(node.host_uuid); it != principals->end()) {
        node.principals = it->second;
      }
    }
    return nodes;
  });
}

Status SqliteStore::DeleteNode(const std::string& host_uuid) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    GATE_RETURN_IF_ERROR(RunWithText(db, kNodeLabels.remove, host_uuid));
    GATE_RETURN_IF_ERROR(RunWithText(db, kNodePrincipals.remove, host_uuid));
    Result<Stmt> stmt = Stmt::Prepare(db, "DELETE FROM nodes WHERE host_uuid = ?1");
    if (!stmt) return stmt.error();
    return ChangeOne(stmt->Text(1, host_uuid), NodeNotFound(host_uuid));
  });
}

Status SqliteStore::RecordNodeSync(const std::string& host_uuid, std::int64_t now,
                                   std::int64_t revision) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    Result<Stmt> stmt = Stmt::Prepare(
        db, "UPDATE nodes SET last_sync = ?2, policy_revision = ?3 WHERE host_uuid = ?1");
    if (!stmt) return stmt.error();
    stmt->Text(1, host_uuid).Int(2, now).Int(3, revision);
    return ChangeOne(*stmt, NodeNotFound(host_uuid));
  });
}

Status SqliteStore::SetNodePrincipals(const std::string& host_uuid,
                                      const std::vector<std::string>& principals) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    if (Result<NodeRecord> node = LoadNode(db, host_uuid); !node) return node.error();
    return StorePrincipals(db, host_uuid, principals);
  });
}

Status SqliteStore::SetNodeRecorderKey(const std::string& host_uuid, const std::string& key) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) {
    return SetNodeColumn(db, "UPDATE nodes SET recorder_key = ?2 WHERE host_uuid = ?1", host_uuid,
                         key);
  });
}

Status SqliteStore::SetNodeSshAddress(const std::string& host_uuid, const std::string& address) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) {
    return SetNodeColumn(db, "UPDATE nodes SET ssh_address = ?2 WHERE host_uuid = ?1", host_uuid,
                         address);
  });
}

}  // namespace gate::ca::sqlite
