#include "ca-server/store/sqlite_stmt.h"

#include <cstring>
#include <utility>

#include "ca-server/store/sqlite_vfs.h"

namespace gate::ca::sqlite {

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string message = "sqlite: " + std::string(what) + ": " + sqlite3_errstr(rc);
  if (db != nullptr && sqlite3_errcode(db) == rc) {
    const char* detail = sqlite3_errmsg(db);
    if (detail != nullptr && std::strcmp(detail, sqlite3_errstr(rc)) != 0) {
      message += " (" + std::string(detail) + ")";
    }
  }
  // For I/O failures, what the system said (the VFS keeps the errno).
  if ((rc & 0xFF) == SQLITE_IOERR || (rc & 0xFF) == SQLITE_FULL) {
    int err = EnvVfs::TakeInjectedErrno();
    if (err == 0 && db != nullptr) err = sqlite3_system_errno(db);
    if (err != 0) message += ": " + std::string(std::strerror(err));
  }
  switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
      return Unavailable(std::move(message));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLoss(std::move(message));
    default:
      return Internal(std::move(message));
  }
}

Status Exec(sqlite3* db, const char* sql) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  // A migration's text is long; its first words say enough.
  if (rc != SQLITE_OK) return SqliteError(db, rc, std::string_view(sql).substr(0, 40));
  return Status::Ok();
}

Result<Stmt> Stmt::Prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) return Err(SqliteError(db, rc, "prepare"));
  return Stmt(db, std::move(stmt));
}

Stmt& Stmt::Int(int index, std::int64_t value) {
  Note(sqlite3_bind_int64(stmt_.get(), index, value));
  return *this;
}

Stmt& Stmt::Text(int index, std::string_view value) {
  Note(sqlite3_bind_text64(stmt_.get(), index, value.data(), value.size(), SQLITE_TRANSIENT,
                           SQLITE_UTF8));
  return *this;
}

Stmt& Stmt::Blob(int index, std::string_view value) {
  if (value.empty()) {
    Note(sqlite3_bind_null(stmt_.get(), index));
  } else {
    Note(sqlite3_bind_blob64(stmt_.get(), index, value.data(), value.size(), SQLITE_TRANSIENT));
  }
  return *this;
}

Result<bool> Stmt::Step() {
  if (bind_rc_ != SQLITE_OK) return Err(SqliteError(db_, bind_rc_, "bind"));
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Err(SqliteError(db_, rc, "step"));
}

Status Stmt::Run() {
  Result<bool> row = Step();
  if (!row) return row.error();
  if (*row) return Internal("sqlite: statement unexpectedly returned a row");
  return Status::Ok();
}

Result<int> Stmt::Change() {
  GATE_RETURN_IF_ERROR(Run());
  return sqlite3_changes(db_);
}

Status Stmt::Insert(Status exists, Status missing) {
  if (bind_rc_ != SQLITE_OK) return SqliteError(db_, bind_rc_, "bind");
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_DONE) return Status::Ok();
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) return exists;
  if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return missing;
  if (rc == SQLITE_ROW) return Internal("sqlite: statement unexpectedly returned a row");
  return SqliteError(db_, rc, "insert");
}

std::int64_t Stmt::ColumnInt(int col) const { return sqlite3_column_int64(stmt_.get(), col); }

std::string Stmt::ColumnText(int col) const {
  const unsigned char* text = sqlite3_column_text(stmt_.get(), col);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), col)));
}

SecretString Stmt::ColumnSecret(int col) const {
  const void* blob = sqlite3_column_blob(stmt_.get(), col);
  const int size = sqlite3_column_bytes(stmt_.get(), col);
  if (blob == nullptr || size <= 0) return {};
  return SecretString(static_cast<const char*>(blob), static_cast<std::size_t>(size));
}

std::vector<std::uint8_t> Stmt::ColumnBytes(int col) const {
  const auto* blob = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_.get(), col));
  const int size = sqlite3_column_bytes(stmt_.get(), col);
  if (blob == nullptr || size <= 0) return {};
  return std::vector<std::uint8_t>(blob, blob + size);
}

Status RunWithText(sqlite3* db, std::string_view sql, std::string_view value) {
  Result<Stmt> stmt = Stmt::Prepare(db, sql);
  if (!stmt) return stmt.error();
  return stmt->Text(1, value).Run();
}

Result<Transaction> Transaction::Begin(sqlite3* db, Kind kind) {
  GATE_RETURN_IF_ERROR(Exec(db, kind == Kind::kWrite ? "BEGIN IMMEDIATE" : "BEGIN"));
  return Transaction(db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) static_cast<void>(sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr));
}

Status Transaction::Commit() {
  Status status = Exec(db_, "COMMIT");
  if (status.ok()) db_ = nullptr;
  return status;
}

Result<Savepoint> Savepoint::Begin(sqlite3* db) {
  GATE_RETURN_IF_ERROR(Exec(db, "SAVEPOINT operation"));
  return Savepoint(db);
}

Savepoint::~Savepoint() {
  if (db_ == nullptr) return;
  static_cast<void>(
      sqlite3_exec(db_, "ROLLBACK TO operation; RELEASE operation", nullptr, nullptr, nullptr));
}

Status Savepoint::Release() {
  Status status = Exec(db_, "RELEASE operation");
  if (status.ok()) db_ = nullptr;
  return status;
}

}  // namespace gate::ca::sqlite
