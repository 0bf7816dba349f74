// Thin wrappers over SQLite's C API for the SQLite Store: result codes to
// Status, prepared statements with bound parameters, and transactions that
// roll back unless committed. Used only inside ca-server/store/.
//
// None of these is thread-safe on its own: a connection (sqlite3*) and
// everything made from it are used by one thread at a time, which the
// connection pool (sqlite_store.h) guarantees.
#ifndef GATE_CA_STORE_SQLITE_STMT_H_
#define GATE_CA_STORE_SQLITE_STMT_H_

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gate/cptr.h"
#include "gate/secret.h"
#include "gate/status.h"

namespace gate::ca::sqlite {

using Db = CPtr<sqlite3, sqlite3_close>;
using StmtPtr = CPtr<sqlite3_stmt, sqlite3_finalize>;

// Maps a SQLite result code to a Status: Unavailable for busy, I/O, full
// disk and the like (worth retrying later), DataLoss for a corrupt file,
// Internal otherwise. Constraint violations that mean something to the
// caller (AlreadyExists, NotFound) are mapped at the call site before this
// is reached. Messages come from SQLite and never contain bound values, so
// they carry no secrets.
Status SqliteError(sqlite3* db, int rc, std::string_view what);

// Runs SQL without parameters (pragmas, DDL, transaction control).
Status Exec(sqlite3* db, const char* sql);

// A prepared statement. Bind errors are remembered and reported by the next
// Step(), so call sites can bind a row without checking each call.
class Stmt {
 public:
  static Result<Stmt> Prepare(sqlite3* db, std::string_view sql);

  Stmt& Int(int index, std::int64_t value);
  Stmt& Text(int index, std::string_view value);
  // An empty value is stored as NULL.
  Stmt& Blob(int index, std::string_view value);

  // True if a row is available, false when the statement is done.
  Result<bool> Step();

  // Steps through every row, calling on_row() while the row is current;
  // the first failed step ends it with that error.
  template <typename OnRow>
  Status ForEachRow(OnRow&& on_row) {
    while (true) {
      Result<bool> row = Step();
      if (!row) return row.error();
      if (!*row) return Status::Ok();
      on_row();
    }
  }

  // Runs a statement that returns no rows.
  Status Run();
  // Run(), then the number of rows it changed (for UPDATE and DELETE).
  Result<int> Change();

  // Like Run(), for INSERTs: a PRIMARY KEY or UNIQUE violation becomes
  // `exists`, a foreign key violation `missing`.
  Status Insert(Status exists, Status missing);

  std::int64_t ColumnInt(int col) const;
  std::string ColumnText(int col) const;
  SecretString ColumnSecret(int col) const;
  std::vector<std::uint8_t> ColumnBytes(int col) const;  // empty for NULL

 private:
  Stmt(sqlite3* db, StmtPtr stmt) : db_(db), stmt_(std::move(stmt)) {}
  void Note(int rc) {
    if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  }

  sqlite3* db_;
  StmtPtr stmt_;
  int bind_rc_ = SQLITE_OK;
};

// Prepares sql, binds value to ?1 and runs it (a DELETE or UPDATE keyed
// by one name).
Status RunWithText(sqlite3* db, std::string_view sql, std::string_view value);

// A transaction that rolls back unless Commit() succeeds. IMMEDIATE takes the
// write lock at BEGIN, so a read-modify-write cannot fail half way with
// SQLITE_BUSY on lock upgrade (and busy_timeout applies at BEGIN). Deferred
// (read) transactions give multi-statement reads one consistent snapshot.
class Transaction {
 public:
  enum class Kind { kRead, kWrite };

  static Result<Transaction> Begin(sqlite3* db, Kind kind);

  Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  Status Commit();

 private:
  explicit Transaction(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// A savepoint inside an open transaction, rolled back to (and released)
// unless Release() succeeds: makes one operation all-or-nothing within a
// larger transaction.
class Savepoint {
 public:
  static Result<Savepoint> Begin(sqlite3* db);

  Savepoint(Savepoint&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Savepoint& operator=(Savepoint&&) = delete;
  ~Savepoint();

  Status Release();

 private:
  explicit Savepoint(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace gate::ca::sqlite

#endif  // GATE_CA_STORE_SQLITE_STMT_H_
