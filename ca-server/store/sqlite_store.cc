#include "ca-server/store/sqlite_store.h"

#include <utility>

namespace gate::ca::sqlite {

// --- Connection pool ------------------------------------------------------------

ConnectionPool::ConnectionPool(std::unique_ptr<EnvVfs> vfs, Db writer, std::vector<Db> readers)
    : vfs_(std::move(vfs)), writer_(std::move(writer)), readers_(std::move(readers)) {
  for (const Db& reader : readers_) idle_readers_.push_back(reader.get());
}

ConnectionPool::Lease ConnectionPool::Acquire(Transaction::Kind kind) {
  if (kind == Transaction::Kind::kWrite || readers_.empty()) {
    writer_mu_.lock();
    return Lease(this, writer_.get(), true);
  }
  std::unique_lock<std::mutex> lock(readers_mu_);
  reader_free_.wait(lock, [this] { return !idle_readers_.empty(); });
  sqlite3* db = idle_readers_.back();
  idle_readers_.pop_back();
  return Lease(this, db, false);
}

void ConnectionPool::Return(sqlite3* db, bool writer) {
  if (writer) {
    writer_mu_.unlock();
    return;
  }
  {
    std::lock_guard<std::mutex> lock(readers_mu_);
    idle_readers_.push_back(db);
  }
  reader_free_.notify_one();
}

ConnectionPool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), db_(other.db_), writer_(other.writer_) {}

ConnectionPool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->Return(db_, writer_);
}

// --- Transactions ------------------------------------------------------------------

Status SqliteStore::InTransaction(const TransactionBody& body) {
  return Run(Transaction::Kind::kWrite, [&](sqlite3* db) -> Status {
    SqliteStore tx(db, Transaction::Kind::kWrite);
    return body(tx);
  });
}

// A deferred transaction on a read connection: SQLite takes its WAL snapshot
// at the first read and keeps it until the end.
Status SqliteStore::InReadTransaction(const TransactionBody& body) {
  return Run(Transaction::Kind::kRead, [&](sqlite3* db) -> Status {
    SqliteStore tx(db, Transaction::Kind::kRead);
    return body(tx);
  });
}

// --- Child tables ------------------------------------------------------------------

const ListTable kUserLogins = {
    "INSERT INTO user_logins (user_name, position, login) VALUES (?1, ?2, ?3)",
    "SELECT login FROM user_logins WHERE user_name = ?1 ORDER BY position",
    "SELECT user_name, login FROM user_logins ORDER BY user_name, position",
    "DELETE FROM user_logins WHERE user_name = ?1",
};
const ListTable kUserRoles = {
    "INSERT INTO user_roles (user_name, position, role) VALUES (?1, ?2, ?3)",
    "SELECT role FROM user_roles WHERE user_name = ?1 ORDER BY position",
    "SELECT user_name, role FROM user_roles ORDER BY user_name, position",
    "DELETE FROM user_roles WHERE user_name = ?1",
};
const ListTable kRoleLogins = {
    "INSERT INTO role_logins (role_name, position, login) VALUES (?1, ?2, ?3)",
    "SELECT login FROM role_logins WHERE role_name = ?1 ORDER BY position",
    "SELECT role_name, login FROM role_logins ORDER BY role_name, position",
    "DELETE FROM role_logins WHERE role_name = ?1",
};

const ListTable kNodePrincipals = {
    "INSERT INTO node_principals (host_uuid, position, name) VALUES (?1, ?2, ?3)",
    "SELECT name FROM node_principals WHERE host_uuid = ?1 ORDER BY position",
    "SELECT host_uuid, name FROM node_principals ORDER BY host_uuid, position",
    "DELETE FROM node_principals WHERE host_uuid = ?1",
};
const ListTable kTokenPrincipals = {
    "INSERT INTO node_token_principals (token_hash, position, name) VALUES (?1, ?2, ?3)",
    "SELECT name FROM node_token_principals WHERE token_hash = ?1 ORDER BY position",
    "SELECT token_hash, name FROM node_token_principals ORDER BY token_hash, position",
    "DELETE FROM node_token_principals WHERE token_hash = ?1",
};

const LabelTable kRoleLabels = {
    "INSERT INTO role_node_labels (role_name, label_name, label_value) VALUES (?1, ?2, ?3)",
    "SELECT label_name, label_value FROM role_node_labels WHERE role_name = ?1",
    "SELECT role_name, label_name, label_value FROM role_node_labels",
    "DELETE FROM role_node_labels WHERE role_name = ?1",
};
const LabelTable kNodeLabels = {
    "INSERT INTO node_labels (host_uuid, label_name, label_value) VALUES (?1, ?2, ?3)",
    "SELECT label_name, label_value FROM node_labels WHERE host_uuid = ?1",
    "SELECT host_uuid, label_name, label_value FROM node_labels",
    "DELETE FROM node_labels WHERE host_uuid = ?1",
};
const LabelTable kTokenLabels = {
    "INSERT INTO node_token_labels (token_hash, label_name, label_value) VALUES (?1, ?2, ?3)",
    "SELECT label_name, label_value FROM node_token_labels WHERE token_hash = ?1",
    "SELECT token_hash, label_name, label_value FROM node_token_labels",
    "DELETE FROM node_token_labels WHERE token_hash = ?1",
};

Result<std::vector<std::string>> LoadList(sqlite3* db, const ListTable& table,
                                          const std::string& owner) {
  Result<Stmt> stmt = Stmt::Prepare(db, table.select_one);
  if (!stmt) return Err(stmt.error());
  stmt->Text(1, owner);
  std::vector<std::string> values;
  GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] { values.push_back(stmt->ColumnText(0)); }));
  return values;
}

Result<std::map<std::string, std::vector<std::string>, std::less<>>> LoadAllLists(
    sqlite3* db, const ListTable& table) {
  Result<Stmt> stmt = Stmt::Prepare(db, table.select_all);
  if (!stmt) return Err(stmt.error());
  std::map<std::string, std::vector<std::string>, std::less<>> all;
  GATE_RETURN_IF_ERROR(
      stmt->ForEachRow([&] { all[stmt->ColumnText(0)].push_back(stmt->ColumnText(1)); }));
  return all;
}

Status StoreList(sqlite3* db, const ListTable& table, const std::string& owner,
                 const std::vector<std::string>& values) {
  GATE_RETURN_IF_ERROR(RunWithText(db, table.remove, owner));
  for (std::size_t i = 0; i < values.size(); ++i) {
    Result<Stmt> stmt = Stmt::Prepare(db, table.insert);
    if (!stmt) return stmt.error();
    GATE_RETURN_IF_ERROR(
        stmt->Text(1, owner).Int(2, static_cast<std::int64_t>(i)).Text(3, values[i]).Run());
  }
  return Status::Ok();
}

Result<policy::Labels> LoadLabels(sqlite3* db, const LabelTable& table, const std::string& owner) {
  Result<Stmt> stmt = Stmt::Prepare(db, table.select_one);
  if (!stmt) return Err(stmt.error());
  stmt->Text(1, owner);
  policy::Labels labels;
  GATE_RETURN_IF_ERROR(
      stmt->ForEachRow([&] { labels.emplace(stmt->ColumnText(0), stmt->ColumnText(1)); }));
  return labels;
}

Result<std::map<std::string, policy::Labels, std::less<>>> LoadAllLabels(sqlite3* db,
                                                                         const LabelTable& table) {
  Result<Stmt> stmt = Stmt::Prepare(db, table.select_all);
  if (!stmt) return Err(stmt.error());
  std::map<std::string, policy::Labels, std::less<>> all;
  GATE_RETURN_IF_ERROR(stmt->ForEachRow(
      [&] { all[stmt->ColumnText(0)].emplace(stmt->ColumnText(1), stmt->ColumnText(2)); }));
  return all;
}

Status StoreLabels(sqlite3* db, const LabelTable& table, const std::string& owner,
                   const policy::Labels& labels) {
  GATE_RETURN_IF_ERROR(RunWithText(db, table.remove, owner));
  for (const auto& [name, value] : labels) {
    Result<Stmt> stmt = Stmt::Prepare(db, table.insert);
    if (!stmt) return stmt.error();
    GATE_RETURN_IF_ERROR(stmt->Text(1, owner).Text(2, name).Text(3, value).Run());
  }
  return Status::Ok();
}

Status ChangeOne(Stmt& stmt, Status missing) {
  Result<int> changed = stmt.Change();
  if (!changed) return changed.error();
  if (*changed == 0) return missing;
  return Status::Ok();
}

Status UserNotFound(const std::string& name) { return NotFound("user '" + name + "' not found"); }
Status RoleNotFound(const std::string& name) { return NotFound("role '" + name + "' not found"); }

}  // namespace gate::ca::sqlite
