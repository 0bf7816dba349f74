// The SQLite implementation of Store.
//
// One connection, used under one mutex: gate-ca's write rate (logins, signups,
// issued certificates) is a few per second at most, so a connection pool would
// add failure modes without adding useful throughput. Statements are prepared
// per call for the same reason; every value reaches SQL as a bound parameter.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "ca-server/store/store.h"
#include "gate/cptr.h"
#include "gate/json.h"
#include "gate/unique_fd.h"

namespace gate::ca {
namespace {

using Db = CPtr<sqlite3, sqlite3_close>;
using StmtPtr = CPtr<sqlite3_stmt, sqlite3_finalize>;

// How long a statement waits for another process (gatectl, a backup) holding
// the write lock before failing with Unavailable.
constexpr int kBusyTimeoutMs = 5000;

// ---------------------------------------------------------------------------
// Schema. Migration N takes a database at version N-1 to version N; all
// pending migrations run in one transaction, so a crash leaves either the old
// schema or the new one. Never edit a migration once released: add one.
//
// Column notes:
//  - uint64 certificate serials are stored bit-cast to int64 (SQLite integers
//    are signed 64-bit), so serials >= 2^63 appear negative in the sqlite3 CLI.
//  - certificates has no foreign key to users: the record of a serial must
//    outlive the user, or a deleted user's serial could be issued again.
//  - "user_name", not "user": USER is reserved in PostgreSQL, the planned
//    second implementation.
struct Migration {
  int version;
  const char* sql;
};

constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE users (
  name            TEXT PRIMARY KEY NOT NULL,
  created_at      INTEGER NOT NULL,
  password_hash   TEXT NOT NULL DEFAULT '',
  totp_secret     BLOB,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  locked_until    INTEGER NOT NULL DEFAULT 0,
  last_totp_step  INTEGER NOT NULL DEFAULT -1
) STRICT;

CREATE TABLE user_logins (
  user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  position  INTEGER NOT NULL,
  login     TEXT NOT NULL,
  PRIMARY KEY (user_name, position)
) STRICT, WITHOUT ROWID;

CREATE TABLE user_roles (
  user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  position  INTEGER NOT NULL,
  role      TEXT NOT NULL,
  PRIMARY KEY (user_name, position)
) STRICT, WITHOUT ROWID;

CREATE TABLE signup_tokens (
  token_hash  TEXT PRIMARY KEY NOT NULL,
  user_name   TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  totp_secret BLOB
) STRICT;
CREATE INDEX signup_tokens_by_user ON signup_tokens(user_name);
CREATE INDEX signup_tokens_by_expiry ON signup_tokens(expires_at);

CREATE TABLE certificates (
  serial       INTEGER PRIMARY KEY,
  user_name    TEXT NOT NULL,
  key_id       TEXT NOT NULL,
  valid_after  INTEGER NOT NULL,
  valid_before INTEGER NOT NULL,
  issued_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX certificates_by_user ON certificates(user_name, issued_at);
CREATE TRIGGER certificates_keep_serials BEFORE DELETE ON certificates
BEGIN SELECT RAISE(ABORT, 'issued certificates are never deleted'); END;

CREATE TABLE audit (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  time      INTEGER NOT NULL,
  event     TEXT NOT NULL,
  user_name TEXT NOT NULL,
  source    TEXT NOT NULL,
  success   INTEGER NOT NULL CHECK (success IN (0, 1)),
  detail    TEXT NOT NULL
) STRICT;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)sql"},
    // Nodes: roles, locks, node join tokens, nodes, revocations. Labels are
    // child rows rather than encoded text, like a user's logins, so no code
    // outside SQL has to parse what the database holds.
    {2, R"sql(
CREATE TABLE roles (
  name                    TEXT PRIMARY KEY NOT NULL,
  max_ttl                 INTEGER NOT NULL CHECK (max_ttl >= 0),
  permit_pty              INTEGER NOT NULL CHECK (permit_pty IN (0, 1)),
  permit_port_forwarding  INTEGER NOT NULL CHECK (permit_port_forwarding IN (0, 1)),
  permit_agent_forwarding INTEGER NOT NULL CHECK (permit_agent_forwarding IN (0, 1))
) STRICT;

CREATE TABLE role_logins (
  role_name TEXT NOT NULL REFERENCES roles(name) ON DELETE CASCADE,
  position  INTEGER NOT NULL,
  login     TEXT NOT NULL,
  PRIMARY KEY (role_name, position)
) STRICT, WITHOUT ROWID;

CREATE TABLE role_node_labels (
  role_name   TEXT NOT NULL REFERENCES roles(name) ON DELETE CASCADE,
  label_name  TEXT NOT NULL,
  label_value TEXT NOT NULL,
  PRIMARY KEY (role_name, label_name)
) STRICT, WITHOUT ROWID;

CREATE INDEX user_roles_by_role ON user_roles(role);

CREATE TABLE locks (
  user_name  TEXT PRIMARY KEY NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  expires_at INTEGER NOT NULL,
  message    TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE node_tokens (
  token_hash TEXT PRIMARY KEY NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX node_tokens_by_expiry ON node_tokens(expires_at);

CREATE TABLE node_token_labels (
  token_hash  TEXT NOT NULL REFERENCES node_tokens(token_hash) ON DELETE CASCADE,
  label_name  TEXT NOT NULL,
  label_value TEXT NOT NULL,
  PRIMARY KEY (token_hash, label_name)
) STRICT, WITHOUT ROWID;

CREATE TABLE nodes (
  host_uuid   TEXT PRIMARY KEY NOT NULL,
  hostname    TEXT NOT NULL,
  host_key    TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  joined_at   INTEGER NOT NULL,
  last_sync   INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE node_labels (
  host_uuid   TEXT NOT NULL REFERENCES nodes(host_uuid) ON DELETE CASCADE,
  label_name  TEXT NOT NULL,
  label_value TEXT NOT NULL,
  PRIMARY KEY (host_uuid, label_name)
) STRICT, WITHOUT ROWID;

CREATE TABLE revocations (
  serial       INTEGER PRIMARY KEY REFERENCES certificates(serial),
  user_name    TEXT NOT NULL,
  revoked_at   INTEGER NOT NULL,
  valid_before INTEGER NOT NULL
) STRICT;
CREATE INDEX revocations_by_expiry ON revocations(valid_before);
CREATE TRIGGER revocations_are_final BEFORE DELETE ON revocations
BEGIN SELECT RAISE(ABORT, 'revocations are never deleted'); END;

CREATE TABLE revocation_version (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL CHECK (version >= 0)
) STRICT;
INSERT INTO revocation_version (id, version) VALUES (1, 0);
)sql"},
    // Recording: which roles' holders are recorded and may join sessions
    // (docs/recording.md). Existing roles get 0, as before recording existed.
    {3, R"sql(
ALTER TABLE roles ADD COLUMN
  record_sessions INTEGER NOT NULL DEFAULT 0 CHECK (record_sessions IN (0, 1));
ALTER TABLE roles ADD COLUMN
  join_sessions   INTEGER NOT NULL DEFAULT 0 CHECK (join_sessions IN (0, 1));
)sql"},
    // Central collection of recordings (docs/recording.md): the sessions
    // index and each node's recorder key. Sessions name their node by host
    // UUID without a foreign key: a recording outlives the node's membership.
    {4, R"sql(
ALTER TABLE nodes ADD COLUMN recorder_key TEXT NOT NULL DEFAULT '';

CREATE TABLE sessions (
  id            TEXT PRIMARY KEY NOT NULL,
  user_name     TEXT NOT NULL,
  login         TEXT NOT NULL,
  host_uuid     TEXT NOT NULL,
  node_name     TEXT NOT NULL,
  mode          TEXT NOT NULL,
  started_at    INTEGER NOT NULL,
  ended_at      INTEGER NOT NULL DEFAULT 0,
  live          INTEGER NOT NULL CHECK (live IN (0, 1)),
  size          INTEGER NOT NULL CHECK (size >= 0),
  created_at    INTEGER NOT NULL,
  completed_at  INTEGER NOT NULL DEFAULT 0,
  sha256        TEXT NOT NULL DEFAULT '',
  verified      INTEGER NOT NULL DEFAULT 0 CHECK (verified IN (0, 1)),
  verify_detail TEXT NOT NULL DEFAULT '',
  exit_data     TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX sessions_by_start ON sessions(started_at, id);
CREATE INDEX sessions_by_user ON sessions(user_name, started_at);
CREATE INDEX sessions_live_by_node ON sessions(host_uuid, live);
)sql"},
};

constexpr int kLatestSchemaVersion = kMigrations[std::size(kMigrations) - 1].version;

// ---------------------------------------------------------------------------
// Thin wrappers over the C API.

// Maps a SQLite result code to a Status. Constraint violations that mean
// something to the caller (AlreadyExists, NotFound) are mapped at the call
// site before this is reached. Messages come from SQLite and never contain
// bound values, so they carry no secrets.
Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string message = "sqlite: " + std::string(what) + ": " + sqlite3_errstr(rc);
  if (db != nullptr && sqlite3_errcode(db) == rc) {
    const char* detail = sqlite3_errmsg(db);
    if (detail != nullptr && std::strcmp(detail, sqlite3_errstr(rc)) != 0) {
      message += " (" + std::string(detail) + ")";
    }
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

// For statements without parameters only (pragmas, DDL, transaction control).
Status Exec(sqlite3* db, const char* sql) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  // A migration's text is long; its first words say enough.
  if (rc != SQLITE_OK) return SqliteError(db, rc, std::string_view(sql).substr(0, 40));
  return Status::Ok();
}

// A prepared statement. Bind errors are remembered and reported by the next
// Step(), so call sites can bind a row without checking each call.
class Stmt {
 public:
  static Result<Stmt> Prepare(sqlite3* db, std::string_view sql) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
    StmtPtr stmt(raw);
    if (rc != SQLITE_OK) return Err(SqliteError(db, rc, "prepare"));
    return Stmt(db, std::move(stmt));
  }

  Stmt& Int(int index, std::int64_t value) {
    Note(sqlite3_bind_int64(stmt_.get(), index, value));
    return *this;
  }
  Stmt& Text(int index, std::string_view value) {
    Note(sqlite3_bind_text64(stmt_.get(), index, value.data(), value.size(), SQLITE_TRANSIENT,
                             SQLITE_UTF8));
    return *this;
  }
  // An empty value is stored as NULL.
  Stmt& Blob(int index, std::string_view value) {
    if (value.empty()) {
      Note(sqlite3_bind_null(stmt_.get(), index));
    } else {
      Note(sqlite3_bind_blob64(stmt_.get(), index, value.data(), value.size(), SQLITE_TRANSIENT));
    }
    return *this;
  }

  // True if a row is available, false when the statement is done.
  Result<bool> Step() {
    if (bind_rc_ != SQLITE_OK) return Err(SqliteError(db_, bind_rc_, "bind"));
    const int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Err(SqliteError(db_, rc, "step"));
  }

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
  Status Run() {
    Result<bool> row = Step();
    if (!row) return row.error();
    if (*row) return Internal("sqlite: statement unexpectedly returned a row");
    return Status::Ok();
  }

  // Like Run(), for INSERTs: a PRIMARY KEY or UNIQUE violation becomes
  // `exists`, a foreign key violation `missing`.
  Status Insert(Status exists, Status missing) {
    if (bind_rc_ != SQLITE_OK) return SqliteError(db_, bind_rc_, "bind");
    const int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_DONE) return Status::Ok();
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) return exists;
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return missing;
    if (rc == SQLITE_ROW) return Internal("sqlite: statement unexpectedly returned a row");
    return SqliteError(db_, rc, "insert");
  }

  std::int64_t ColumnInt(int col) const { return sqlite3_column_int64(stmt_.get(), col); }
  std::string ColumnText(int col) const {
    const unsigned char* text = sqlite3_column_text(stmt_.get(), col);
    if (text == nullptr) return {};
    return std::string(reinterpret_cast<const char*>(text),
                       static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), col)));
  }
  SecretString ColumnSecret(int col) const {
    const void* blob = sqlite3_column_blob(stmt_.get(), col);
    const int size = sqlite3_column_bytes(stmt_.get(), col);
    if (blob == nullptr || size <= 0) return {};
    return SecretString(static_cast<const char*>(blob), static_cast<std::size_t>(size));
  }

 private:
  Stmt(sqlite3* db, StmtPtr stmt) : db_(db), stmt_(std::move(stmt)) {}
  void Note(int rc) {
    if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  }

  sqlite3* db_;
  StmtPtr stmt_;
  int bind_rc_ = SQLITE_OK;
};

// A transaction that rolls back unless Commit() succeeds. IMMEDIATE takes the
// write lock at BEGIN, so a read-modify-write cannot fail half way with
// SQLITE_BUSY on lock upgrade (and busy_timeout applies at BEGIN). Deferred
// (read) transactions give multi-statement reads one consistent snapshot.
class Transaction {
 public:
  enum class Kind { kRead, kWrite };

  static Result<Transaction> Begin(sqlite3* db, Kind kind) {
    GATE_RETURN_IF_ERROR(Exec(db, kind == Kind::kWrite ? "BEGIN IMMEDIATE" : "BEGIN"));
    return Transaction(db);
  }

  Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction() {
    if (db_ != nullptr) static_cast<void>(sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr));
  }

  Status Commit() {
    Status status = Exec(db_, "COMMIT");
    if (status.ok()) db_ = nullptr;
    return status;
  }

 private:
  explicit Transaction(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// ---------------------------------------------------------------------------
// Opening the file.

Status CheckOpenFile(const std::string& path, int fd, struct stat* st) {
  if (::fstat(fd, st) != 0) {
    return Unavailable("cannot stat " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st->st_mode)) return PermissionDenied(path + " is not a regular file");
  const uid_t euid = ::geteuid();
  if (st->st_uid != euid) {
    return PermissionDenied(path + " is owned by uid " + std::to_string(st->st_uid) +
                            ", not by uid " + std::to_string(euid) +
                            " which runs gate-ca; chown it");
  }
  if ((st->st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st->st_mode & 07777));
    return PermissionDenied(path + " is accessible by group or others (mode " + mode +
                            "); run chmod 600 " + path);
  }
  return Status::Ok();
}

// SQLite opens the -wal and -shm files itself, without O_NOFOLLOW; if they
// already exist they must pass the same checks as the database.
Status CheckSidecar(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) {
    if (errno == ENOENT) return Status::Ok();
    if (errno == ELOOP) return PermissionDenied(path + " is a symlink; refusing to use it");
    return Unavailable("cannot open " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  return CheckOpenFile(path, fd.get(), &st);
}

// Creates the database file 0600 if it does not exist, so it is never
// world-readable even for a moment, and vets it (new or old) before SQLite
// touches it. Returns the open descriptor for the identity check after
// sqlite3_open_v2.
Result<UniqueFd> OpenDatabaseFile(const std::string& path, struct stat* st) {
  constexpr int kFlags = O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
  bool created = true;
  UniqueFd fd(::open(path.c_str(), kFlags | O_CREAT | O_EXCL, 0600));
  if (!fd.valid() && errno == EEXIST) {
    created = false;
    fd.Reset(::open(path.c_str(), kFlags));
  }
  if (!fd.valid()) {
    const int err = errno;
    if (err == ELOOP) return Err(PermissionDenied(path + " is a symlink; refusing to open it"));
    if (err == EISDIR) return Err(PermissionDenied(path + " is not a regular file"));
    if (err == EACCES || err == EPERM) {
      return Err(PermissionDenied("cannot open " + path + ": " + std::strerror(err)));
    }
    if (err == ENOENT || err == ENOTDIR) {
      return Err(NotFound("cannot create " + path + ": " + std::strerror(err)));
    }
    return Err(Unavailable("cannot open " + path + ": " + std::strerror(err)));
  }
  // A restrictive umask may have taken the owner's bits away.
  if (created && ::fchmod(fd.get(), 0600) != 0) {
    return Err(Unavailable("cannot chmod " + path + ": " + std::strerror(errno)));
  }
  GATE_RETURN_IF_ERROR(CheckOpenFile(path, fd.get(), st));
  return fd;
}

// ---------------------------------------------------------------------------
// Connection setup.

Status Configure(sqlite3* db) {
  sqlite3_extended_result_codes(db, 1);
  if (int rc = sqlite3_busy_timeout(db, kBusyTimeoutMs); rc != SQLITE_OK) {
    return SqliteError(db, rc, "busy_timeout");
  }
  // Defensive mode forbids writable_schema and other ways of corrupting the
  // file through SQL, should a bug ever let SQL text through.
  if (int rc = sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, static_cast<int*>(nullptr));
      rc != SQLITE_OK) {
    return SqliteError(db, rc, "defensive");
  }

  // WAL: readers never block the writer, and a commit is one append.
  {
    Result<Stmt> stmt = Stmt::Prepare(db, "PRAGMA journal_mode=WAL");
    if (!stmt) return stmt.error();
    Result<bool> row = stmt->Step();
    if (!row) return row.error();
    if (!*row || stmt->ColumnText(0) != "wal") {
      return Unavailable("sqlite: cannot switch the database to WAL mode");
    }
  }
  GATE_RETURN_IF_ERROR(Exec(db, "PRAGMA foreign_keys=ON"));
  // FULL, not NORMAL: in WAL mode NORMAL can lose the last commits on power
  // failure (without corruption). For us a lost commit is a security event,
  // not just lost data: a forgotten ConsumeTotpStep lets an OTP code be
  // replayed, a forgotten certificate lets its serial be issued twice, a
  // forgotten lockout or audit row hides an attack. Commits are rare (one per
  // login or certificate), so the extra fsync per commit costs little.
  GATE_RETURN_IF_ERROR(Exec(db, "PRAGMA synchronous=FULL"));
  // Overwrite deleted content, so reset TOTP secrets, old password hashes and
  // used signup tokens do not linger in free pages of the file or its backups.
  GATE_RETURN_IF_ERROR(Exec(db, "PRAGMA secure_delete=ON"));
  return Status::Ok();
}

Status Migrate(sqlite3* db) {
  Result<Transaction> txn = Transaction::Begin(db, Transaction::Kind::kWrite);
  if (!txn) return txn.error();
  GATE_RETURN_IF_ERROR(Exec(db,
                            "CREATE TABLE IF NOT EXISTS schema_version ("
                            " id INTEGER PRIMARY KEY CHECK (id = 1),"
                            " version INTEGER NOT NULL) STRICT"));
  std::int64_t version = 0;
  {
    Result<Stmt> stmt = Stmt::Prepare(db, "SELECT version FROM schema_version WHERE id = 1");
    if (!stmt) return stmt.error();
    Result<bool> row = stmt->Step();
    if (!row) return row.error();
    if (*row) version = stmt->ColumnInt(0);
  }
  if (version > kLatestSchemaVersion) {
    return FailedPrecondition("database schema version " + std::to_string(version) +
                              " is newer than this gate-ca supports (" +
                              std::to_string(kLatestSchemaVersion) + "); upgrade gate-ca");
  }
  if (version < 0) return DataLoss("database schema version is negative");
  // Up to date: the transaction rolls back only the no-op CREATE above.
  if (version == kLatestSchemaVersion) return Status::Ok();

  for (const Migration& migration : kMigrations) {
    if (migration.version <= version) continue;
    Status status = Exec(db, migration.sql);
    if (!status.ok()) {
      return status.WithContext("migrating to schema version " + std::to_string(migration.version));
    }
  }
  {
    Result<Stmt> stmt = Stmt::Prepare(db,
                                      "INSERT INTO schema_version (id, version) VALUES (1, ?1)"
                                      " ON CONFLICT (id) DO UPDATE SET version = excluded.version");
    if (!stmt) return stmt.error();
    GATE_RETURN_IF_ERROR(stmt->Int(1, kLatestSchemaVersion).Run());
  }
  return txn->Commit();
}

// ---------------------------------------------------------------------------
// Row mapping.

constexpr char kUserColumns[] =
    "name, created_at, password_hash, totp_secret, failed_attempts, locked_until, "
    "last_totp_step";

UserRecord ReadUserRow(const Stmt& stmt) {
  UserRecord user;
  user.name = stmt.ColumnText(0);
  user.created_at = stmt.ColumnInt(1);
  user.password_hash = stmt.ColumnText(2);
  user.totp_secret = stmt.ColumnSecret(3);
  const std::int64_t failed = stmt.ColumnInt(4);
  user.failed_attempts = failed > std::numeric_limits<int>::max()
                             ? std::numeric_limits<int>::max()
                             : static_cast<int>(failed < 0 ? 0 : failed);
  user.locked_until = stmt.ColumnInt(5);
  user.last_totp_step = stmt.ColumnInt(6);
  return user;
}

SignupToken ReadTokenRow(const Stmt& stmt) {
  SignupToken token;
  token.token_hash = stmt.ColumnText(0);
  token.user = stmt.ColumnText(1);
  token.created_at = stmt.ColumnInt(2);
  token.expires_at = stmt.ColumnInt(3);
  token.totp_secret = stmt.ColumnSecret(4);
  return token;
}

constexpr char kTokenColumns[] = "token_hash, user_name, created_at, expires_at, totp_secret";

// The two ordered string lists of a user, stored in child tables.
struct ListTable {
  const char* insert;      // ?1 user, ?2 position, ?3 value
  const char* select_one;  // ?1 user -> value, in order
  const char* select_all;  // -> user, value, in user then list order
  const char* remove;      // ?1 user
};

constexpr ListTable kLogins = {
    "INSERT INTO user_logins (user_name, position, login) VALUES (?1, ?2, ?3)",
    "SELECT login FROM user_logins WHERE user_name = ?1 ORDER BY position",
    "SELECT user_name, login FROM user_logins ORDER BY user_name, position",
    "DELETE FROM user_logins WHERE user_name = ?1",
};
constexpr ListTable kRoles = {
    "INSERT INTO user_roles (user_name, position, role) VALUES (?1, ?2, ?3)",
    "SELECT role FROM user_roles WHERE user_name = ?1 ORDER BY position",
    "SELECT user_name, role FROM user_roles ORDER BY user_name, position",
    "DELETE FROM user_roles WHERE user_name = ?1",
};

constexpr ListTable kRoleLogins = {
    "INSERT INTO role_logins (role_name, position, login) VALUES (?1, ?2, ?3)",
    "SELECT login FROM role_logins WHERE role_name = ?1 ORDER BY position",
    "SELECT role_name, login FROM role_logins ORDER BY role_name, position",
    "DELETE FROM role_logins WHERE role_name = ?1",
};

// A label set (policy::Labels) owned by one row of another table.
struct LabelTable {
  const char* insert;      // ?1 owner, ?2 name, ?3 value
  const char* select_one;  // ?1 owner -> name, value
  const char* select_all;  // -> owner, name, value
  const char* remove;      // ?1 owner
};

constexpr LabelTable kRoleLabels = {
    "INSERT INTO role_node_labels (role_name, label_name, label_value) VALUES (?1, ?2, ?3)",
    "SELECT label_name, label_value FROM role_node_labels WHERE role_name = ?1",
    "SELECT role_name, label_name, label_value FROM role_node_labels",
    "DELETE FROM role_node_labels WHERE role_name = ?1",
};
constexpr LabelTable kNodeLabels = {
    "INSERT INTO node_labels (host_uuid, label_name, label_value) VALUES (?1, ?2, ?3)",
    "SELECT label_name, label_value FROM node_labels WHERE host_uuid = ?1",
    "SELECT host_uuid, label_name, label_value FROM node_labels",
    "DELETE FROM node_labels WHERE host_uuid = ?1",
};
constexpr LabelTable kTokenLabels = {
    "INSERT INTO node_token_labels (token_hash, label_name, label_value) VALUES (?1, ?2, ?3)",
    "SELECT label_name, label_value FROM node_token_labels WHERE token_hash = ?1",
    "SELECT token_hash, label_name, label_value FROM node_token_labels",
    "DELETE FROM node_token_labels WHERE token_hash = ?1",
};

constexpr char kRoleColumns[] =
    "name, max_ttl, permit_pty, permit_port_forwarding, permit_agent_forwarding,"
    " record_sessions, join_sessions";

policy::Role ReadRoleRow(const Stmt& stmt) {
  policy::Role role;
  role.name = stmt.ColumnText(0);
  role.max_ttl = std::chrono::seconds(stmt.ColumnInt(1));
  role.permit_pty = stmt.ColumnInt(2) != 0;
  role.permit_port_forwarding = stmt.ColumnInt(3) != 0;
  role.permit_agent_forwarding = stmt.ColumnInt(4) != 0;
  role.record_sessions = stmt.ColumnInt(5) != 0;
  role.join_sessions = stmt.ColumnInt(6) != 0;
  role.node_labels.clear();  // filled from role_node_labels
  return role;
}

constexpr char kNodeColumns[] =
    "host_uuid, hostname, host_key, secret_hash, joined_at, last_sync, recorder_key";

NodeRecord ReadNodeRow(const Stmt& stmt) {
  NodeRecord node;
  node.host_uuid = stmt.ColumnText(0);
  node.hostname = stmt.ColumnText(1);
  node.host_key = stmt.ColumnText(2);
  node.secret_hash = stmt.ColumnText(3);
  node.joined_at = stmt.ColumnInt(4);
  node.last_sync = stmt.ColumnInt(5);
  node.recorder_key = stmt.ColumnText(6);
  return node;
}

constexpr char kSessionColumns[] =
    "id, user_name, login, host_uuid, node_name, mode, started_at, ended_at, live, size,"
    " created_at, completed_at, sha256, verified, verify_detail, exit_data";

SessionRecord ReadSessionRow(const Stmt& stmt) {
  SessionRecord s;
  s.id = stmt.ColumnText(0);
  s.user = stmt.ColumnText(1);
  s.login = stmt.ColumnText(2);
  s.host_uuid = stmt.ColumnText(3);
  s.node_name = stmt.ColumnText(4);
  s.mode = stmt.ColumnText(5);
  s.started_at = stmt.ColumnInt(6);
  s.ended_at = stmt.ColumnInt(7);
  s.live = stmt.ColumnInt(8) != 0;
  s.size = stmt.ColumnInt(9);
  s.created_at = stmt.ColumnInt(10);
  s.completed_at = stmt.ColumnInt(11);
  s.sha256 = stmt.ColumnText(12);
  s.verified = stmt.ColumnInt(13) != 0;
  s.verify_detail = stmt.ColumnText(14);
  s.exit = stmt.ColumnText(15);
  return s;
}

constexpr char kRevocationColumns[] = "serial, user_name, revoked_at, valid_before";

Revocation ReadRevocationRow(const Stmt& stmt) {
  Revocation r;
  r.serial = std::bit_cast<std::uint64_t>(stmt.ColumnInt(0));
  r.user = stmt.ColumnText(1);
  r.revoked_at = stmt.ColumnInt(2);
  r.valid_before = stmt.ColumnInt(3);
  return r;
}

void SortBySerial(std::vector<Revocation>& revocations) {
  std::sort(revocations.begin(), revocations.end(),
            [](const Revocation& a, const Revocation& b) { return a.serial < b.serial; });
}

std::int64_t SaturatingAdd(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<std::int64_t>::max()
                 : std::numeric_limits<std::int64_t>::min();
  }
  return sum;
}

Status UserNotFound(const std::string& name) { return NotFound("user '" + name + "' not found"); }
Status TokenNotFound() { return NotFound("signup token not found"); }
Status RoleNotFound(const std::string& name) { return NotFound("role '" + name + "' not found"); }
Status NodeNotFound(const std::string& uuid) { return NotFound("node '" + uuid + "' not found"); }
Status NodeTokenNotFound() { return NotFound("node join token not found"); }
Status SessionNotFound(const std::string& id) { return NotFound("session '" + id + "' not found"); }

// ---------------------------------------------------------------------------

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(Db db) : db_(std::move(db)) {}

  Status CreateUser(const UserRecord& user) override;
  Result<UserRecord> GetUser(const std::string& name) override;
  Result<std::vector<UserRecord>> ListUsers() override;
  Status DeleteUser(const std::string& name) override;
  Status ResetUserCredentials(const std::string& name) override;

  Result<UserRecord> RecordLoginFailure(const std::string& name, std::int64_t now,
                                        int lockout_attempts,
                                        std::int64_t lockout_seconds) override;
  Status RecordLoginSuccess(const std::string& name) override;
  Result<bool> ConsumeTotpStep(const std::string& name, std::int64_t step) override;

  Status CreateSignupToken(const SignupToken& token) override;
  Result<SignupToken> GetSignupToken(const std::string& token_hash) override;
  Result<SignupToken> OfferTotpSecret(const std::string& token_hash,
                                      const SecretString& secret) override;
  Status CompleteSignup(const std::string& token_hash, std::int64_t now,
                        const std::string& password_hash, const SecretString& totp_secret,
                        std::int64_t totp_step) override;
  Status DeleteExpiredSignupTokens(std::int64_t now) override;

  Status RecordCertificate(const IssuedCertificate& cert) override;
  Result<std::vector<IssuedCertificate>> ListCertificates(const std::string& user) override;

  Status AppendAudit(const AuditEvent& event) override;
  using Store::ListAudit;
  Result<std::vector<AuditEvent>> ListAudit(const AuditQuery& query) override;

  Result<UserRecord> UpdateUser(const std::string& name,
                                const std::optional<std::vector<std::string>>& logins,
                                const std::optional<std::vector<std::string>>& roles) override;

  Status CreateRole(const policy::Role& role) override;
  Status UpdateRole(const policy::Role& role) override;
  Result<policy::Role> ModifyRole(const std::string& name, const RoleChange& change) override;
  Result<policy::Role> GetRole(const std::string& name) override;
  Result<std::vector<policy::Role>> ListRoles() override;
  Status DeleteRole(const std::string& name) override;

  Status SetLock(const LockRecord& lock) override;
  Status DeleteLock(const std::string& user) override;
  Result<std::vector<LockRecord>> ListLocks() override;

  Status CreateNodeToken(const NodeToken& token) override;
  Result<NodeToken> GetNodeToken(const std::string& token_hash) override;
  Status DeleteExpiredNodeTokens(std::int64_t now) override;

  Status CompleteNodeJoin(const std::string& token_hash, std::int64_t now,
                          const NodeRecord& node) override;
  Result<NodeRecord> GetNode(const std::string& host_uuid) override;
  Result<std::vector<NodeRecord>> ListNodes() override;
  Status DeleteNode(const std::string& host_uuid) override;
  Status RecordNodeSync(const std::string& host_uuid, std::int64_t now) override;
  Status SetNodeRecorderKey(const std::string& host_uuid, const std::string& key) override;

  Status CreateSession(const SessionRecord& session) override;
  Result<SessionRecord> GetSession(const std::string& id) override;
  Result<std::vector<SessionRecord>> ListSessionsCompletedBefore(std::int64_t before,
                                                                 std::size_t limit) override;
  Status DeleteSession(const std::string& id) override;
  Status SetSessionSize(const std::string& id, std::int64_t size) override;
  Status CompleteSession(const SessionRecord& session) override;
  Result<std::vector<SessionRecord>> ListSessions(const SessionFilter& filter) override;
  Result<std::int64_t> CountLiveSessions(const std::string& host_uuid) override;

  Result<Revocation> RevokeCertificate(std::uint64_t serial, std::int64_t now) override;
  Result<std::vector<Revocation>> RevokeUserCertificates(const std::string& user,
                                                         std::int64_t now) override;
  Result<RevocationList> ListRevocations(std::int64_t now) override;

 private:
  // Runs body() with mu_ held, inside a transaction of the given kind, and
  // returns its outcome (a Status or a Result<T>). Commits only if body
  // succeeded; otherwise the transaction rolls back, so a failed body writes
  // nothing. A failed BEGIN or COMMIT is returned in place of the outcome.
  template <typename Body>
  std::invoke_result_t<Body&> InTransaction(Transaction::Kind kind, Body&& body);

  // All helpers below expect mu_ held and, where several statements must
  // agree, a transaction open.
  sqlite3* db() { return db_.get(); }
  Result<UserRecord> LoadUser(const std::string& name);
  Result<std::vector<std::string>> LoadList(const ListTable& table, const std::string& name);
  Status StoreList(const ListTable& table, const std::string& name,
                   const std::vector<std::string>& values);
  Result<SignupToken> LoadToken(const std::string& token_hash);
  Result<policy::Labels> LoadLabels(const LabelTable& table, const std::string& owner);
  // Loads every row of table, grouped by owner.
  Result<std::map<std::string, policy::Labels, std::less<>>> LoadAllLabels(const LabelTable& table);
  Status StoreLabels(const LabelTable& table, const std::string& owner,
                     const policy::Labels& labels);
  Result<policy::Role> LoadRole(const std::string& name);
  Status StoreRoleChildren(const policy::Role& role);
  // Overwrites the stored role of the same name; NotFound if absent.
  Status ReplaceRole(const policy::Role& role);
  Result<NodeToken> LoadNodeToken(const std::string& token_hash);
  Result<NodeRecord> LoadNode(const std::string& host_uuid);
  Status BumpRevocationVersion();
  // Runs a single UPDATE/DELETE and returns how many rows it changed.
  Result<int> Change(Stmt& stmt);

  std::mutex mu_;
  Db db_;  // guarded by mu_
};

// Whether InTransaction may commit after a body returned this outcome.
bool Succeeded(const Status& status) { return status.ok(); }
template <typename T>
bool Succeeded(const Result<T>& result) {
  return result.has_value();
}

template <typename Body>
std::invoke_result_t<Body&> SqliteStore::InTransaction(Transaction::Kind kind, Body&& body) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<Transaction> txn = Transaction::Begin(db(), kind);
  if (!txn) return ErrorReturn{txn.error()};
  std::invoke_result_t<Body&> outcome = body();
  if (!Succeeded(outcome)) return outcome;
  GATE_RETURN_IF_ERROR(txn->Commit());
  return outcome;
}

Result<int> SqliteStore::Change(Stmt& stmt) {
  GATE_RETURN_IF_ERROR(stmt.Run());
  return sqlite3_changes(db());
}

Result<std::vector<std::string>> SqliteStore::LoadList(const ListTable& table,
                                                       const std::string& name) {
  Result<Stmt> stmt = Stmt::Prepare(db(), table.select_one);
  if (!stmt) return Err(stmt.error());
  stmt->Text(1, name);
  std::vector<std::string> values;
  GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] { values.push_back(stmt->ColumnText(0)); }));
  return values;
}

Status SqliteStore::StoreList(const ListTable& table, const std::string& name,
                              const std::vector<std::string>& values) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    Result<Stmt> stmt = Stmt::Prepare(db(), table.insert);
    if (!stmt) return stmt.error();
    GATE_RETURN_IF_ERROR(
        stmt->Text(1, name).Int(2, static_cast<std::int64_t>(i)).Text(3, values[i]).Run());
  }
  return Status::Ok();
}

Result<UserRecord> SqliteStore::LoadUser(const std::string& name) {
  Result<Stmt> stmt =
      Stmt::Prepare(db(), std::string("SELECT ") + kUserColumns + " FROM users WHERE name = ?1");
  if (!stmt) return Err(stmt.error());
  stmt->Text(1, name);
  Result<bool> row = stmt->Step();
  if (!row) return Err(row.error());
  if (!*row) return Err(UserNotFound(name));
  UserRecord user = ReadUserRow(*stmt);

  Result<std::vector<std::string>> logins = LoadList(kLogins, name);
  if (!logins) return Err(logins.error());
  Result<std::vector<std::string>> roles = LoadList(kRoles, name);
  if (!roles) return Err(roles.error());
  user.logins = *std::move(logins);
  user.roles = *std::move(roles);
  return user;
}

Result<SignupToken> SqliteStore::LoadToken(const std::string& token_hash) {
  Result<Stmt> stmt = Stmt::Prepare(
      db(), std::string("SELECT ") + kTokenColumns + " FROM signup_tokens WHERE token_hash = ?1");
  if (!stmt) return Err(stmt.error());
  stmt->Text(1, token_hash);
  Result<bool> row = stmt->Step();
  if (!row) return Err(row.error());
  if (!*row) return Err(TokenNotFound());
  return ReadTokenRow(*stmt);
}

// --- Users ------------------------------------------------------------------

Status SqliteStore::CreateUser(const UserRecord& user) {
  if (user.name.empty()) return InvalidArgument("user name must not be empty");
  return InTransaction(Transaction::Kind::kWrite, [&]() -> Status {
    {
      Result<Stmt> stmt = Stmt::Prepare(
          db(),
          "INSERT INTO users (name, created_at, password_hash, totp_secret, failed_attempts,"
          " locked_until, last_totp_step) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
      if (!stmt) return stmt.error();
      stmt->Text(1, user.name)
          .Int(2, user.created_at)
          .Text(3, user.password_hash)
          .Blob(4, user.totp_secret.view())
          .Int(5, user.failed_attempts)
          .Int(6, user.locked_until)
          .Int(7, user.last_totp_step);
      GATE_RETURN_IF_ERROR(stmt->Insert(AlreadyExists("user '" + user.name + "' already exists"),
                                        Internal("sqlite: unexpected foreign key violation")));
    }
    GATE_RETURN_IF_ERROR(StoreList(kLogins, user.name, user.logins));
    GATE_RETURN_IF_ERROR(StoreList(kRoles, user.name, user.roles));
    return Status::Ok();
  });
}

Result<UserRecord> SqliteStore::GetUser(const std::string& name) {
  return InTransaction(Transaction::Kind::kRead,
                       [&]() -> Result<UserRecord> { return LoadUser(name); });
}

Result<std::vector<UserRecord>> SqliteStore::ListUsers() {
  return InTransaction(Transaction::Kind::kRead, [&]() -> Result<std::vector<UserRecord>> {
    std::vector<UserRecord> users;
    std::map<std::string, std::size_t, std::less<>> index;
    {
      Result<Stmt> stmt =
          Stmt::Prepare(db(), std::string("SELECT ") + kUserColumns + " FROM users ORDER BY name");
      if (!stmt) return Err(stmt.error());
      GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] {
        users.push_back(ReadUserRow(*stmt));
        index.emplace(users.back().name, users.size() - 1);
      }));
    }
    for (const ListTable* table : {&kLogins, &kRoles}) {
      Result<Stmt> stmt = Stmt::Prepare(db(), table->select_all);
      if (!stmt) return Err(stmt.error());
      GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] {
        auto it = index.find(stmt->ColumnText(0));
        if (it == index.end()) return;  // impossible with foreign keys on
        UserRecord& user = users[it->second];
        (table == &kLogins ? user.logins : user.roles).push_back(stmt->ColumnText(1));
      }));
    }
    return users;
  });
}

Status SqliteStore::DeleteUser(const std::string& name) {
  return InTransaction(Transaction::Kind::kWrite, [&]() -> Status {
    // Children first and explicitly, so correctness does not hinge on the
    // foreign_keys pragma (ON DELETE CASCADE would do the same).
    for (const char* sql :
         {kLogins.remove, kRoles.remove, "DELETE FROM signup_tokens WHERE user_name = ?1",
          "DELETE FROM locks WHERE user_name = ?1"}) {
      Result<Stmt> stmt = Stmt::Prepare(db(), sql);
      if (!stmt) return stmt.error();
      GATE_RETURN_IF_ERROR(stmt->Text(1, name).Run());
    }
    Result<Stmt> stmt = Stmt::Prepare(db(), "DELETE FROM users WHERE name = ?1");
    if (!stmt) return stmt.error();
    stmt->Text(1, name);
    Result<int> changed = Change(*stmt);
    if (!changed) return changed.error();
    if (*changed == 0) return UserNotFound(name);
    return Status::Ok();
  });
}

Status SqliteStore::ResetUserCredentials(const std::string& name) {
  return InTransaction(Transaction::Kind::kWrite, [&]() -> Status {
    {
      Result<Stmt> stmt = Stmt::Prepare(
          db(),
          "UPDATE users SET password_hash = '', totp_secret = NULL, failed_attempts = 0,"
          " locked_until = 0, last_totp_step = -1 WHERE name = ?1");
      if (!stmt) return stmt.error();
      stmt->Text(1, name);
      Result<int> changed = Change(*stmt);
      if (!changed) return changed.error();
      if (*changed == 0) return UserNotFound(name);
    }
    Result<Stmt> stmt = Stmt::Prepare(db(), "DELETE FROM signup_tokens WHERE user_name = ?1");
    if (!stmt) return stmt.error();
    GATE_RETURN_IF_ERROR(stmt->Text(1, name).Run());
    return Status::Ok();
  });
}

// --- Login bookkeeping ---------------------------------------------------------

Result<UserRecord> SqliteStore::RecordLoginFailure(const std::string& name, std::int64_t now,
                                                   int lockout_attempts,
                                                   std::int64_t lockout_seconds) {
  if (lockout_attempts < 1) return Err(InvalidArgument("lockout_attempts must be at least 1"));
  if (lockout_seconds < 0) return Err(InvalidArgument("lockout_seconds must not be negative"));
  return InTransaction(Transaction::Kind::kWrite, [&]() -> Result<UserRecord> {
    Result<UserRecord> user = LoadUser(name);
    if (!user) return user;
    std::int64_t failed = static_cast<std::int64_t>(user->failed_attempts) + 1;
    std::int64_t locked_until = user->locked_until;
    if (failed >= lockout_attempts) {
      locked_until = SaturatingAdd(now, lockout_seconds);
      failed = 0;
    }
    {
      Result<Stmt> stmt = Stmt::Prepare(
          db(), "UPDATE users SET failed_attempts = ?2, locked_until = ?3 WHERE name = ?1");
      if (!stmt) return Err(stmt.error());
      GATE_RETURN_IF_ERROR(stmt->Text(1, name).Int(2, failed).Int(3, locked_until).Run());
    }
    user->failed_attempts = static_cast<int>(failed);
    user->locked_until = locked_until;
    return user;
  });
}

Status SqliteStore::RecordLoginSuccess(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<Stmt> stmt = Stmt::Prepare(db(), "UPDATE users SET failed_attempts = 0 WHERE name = ?1");
  if (!stmt) return stmt.error();
  stmt->Text(1, name);
  Result<int> changed = Change(*stmt);
  if (!changed) return changed.error();
  if (*changed == 0) return UserNotFound(name);
  return Status::Ok();
}

Result<bool> SqliteStore::ConsumeTotpStep(const std::string& name, std::int64_t step) {
  return InTransaction(Transaction::Kind::kWrite, [&]() -> Result<bool> {
    // The comparison is in the UPDATE itself, so the check and the write are
    // one step even for another process sharing the file.
    Result<Stmt> stmt = Stmt::Prepare(
        db(), "UPDATE users SET last_totp_step = ?2 WHERE name = ?1 AND last_totp_step < ?2");
    if (!stmt) return Err(stmt.error());
    stmt->Text(1, name).Int(2, step);
    Result<int> changed = Change(*stmt);
    if (!changed) return Err(changed.error());
    if (*changed == 0) {
      Result<Stmt> exists = Stmt::Prepare(db(), "SELECT 1 FROM users WHERE name = ?1");
      if (!exists) return Err(exists.error());
      Result<bool> row = exists->Text(1, name).Step();
      if (!row) return Err(row.error());
      if (!*row) return Err(UserNotFound(name));
      return false;
    }
    return true;
  });
}

// --- Signup tokens ---------------------------------------------------------------

Status SqliteStore::CreateSignupToken(const SignupToken& token) {
  if (token.token_hash.empty()) return InvalidArgument("signup token hash must not be empty");
  std::lock_guard<std::mutex> lock(mu_);
  Result<Stmt> stmt = Stmt::Prepare(
      db(),
      "INSERT INTO signup_tokens (token_hash, user_name, created_at, expires_at, totp_secret)"
      " VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!stmt) return stmt.error();
  stmt->Text(1, token.token_hash)
      .Text(2, token.user)
      .Int(3, token.created_at)
      .Int(4, token.expires_at)
      .Blob(5, token.totp_secret.view());
  return stmt->Insert(AlreadyExists("signup token already exists"), UserNotFound(token.user));
}

Result<SignupToken> SqliteStore::GetSignupToken(const std::string& token_hash) {
  std::lock_guard<std::mutex> lock(mu_);
  return LoadToken(token_hash);
}

Result<SignupToken> SqliteStore::OfferTotpSecret(const std::string& token_hash,
                                                 const SecretString& secret) {
  if (secret.empty()) return Err(InvalidArgument("TOTP secret must not be empty"));
  return InTransaction(Transaction::Kind::kWrite, [&]() -> Result<SignupToken> {
    {
      Result<Stmt> stmt = Stmt::Prepare(db(),
                                        "UPDATE signup_tokens SET totp_secret = ?2"
                                        " WHERE token_hash = ?1 AND totp_secret IS NULL");
      if (!stmt) return Err(stmt.error());
      GATE_RETURN_IF_ERROR(stmt->Text(1, token_hash).Blob(2, secret.view()).Run());
    }
    return LoadToken(token_hash);
  });
}

Status SqliteStore::CompleteSignup(const std::string& token_hash, std::int64_t now,
                                   const std::string& password_hash,
                                   const SecretString& totp_secret, std::int64_t totp_step) {
  if (password_hash.empty()) return InvalidArgument("password hash must not be empty");
  return InTransaction(Transaction::Kind::kWrite, [&]() -> Status {
    Result<SignupToken> token = LoadToken(token_hash);
    if (!token) return token.error();
    if (token->expires_at <= now) return FailedPrecondition("signup token expired");
    {
      Result<Stmt> stmt = Stmt::Prepare(
          db(),
          "UPDATE users SET password_hash = ?2, totp_secret = ?3, last_totp_step = ?4,"
          " failed_attempts = 0, locked_until = 0 WHERE name = ?1");
      if (!stmt) return stmt.error();
      stmt->Text(1, token->user)
          .Text(2, password_hash)
          .Blob(3, totp_secret.view())
          .Int(4, totp_step);
      Result<int> changed = Change(*stmt);
      if (!changed) return changed.error();
      if (*changed == 0) return UserNotFound(token->user);
    }
    // Every outstanding token of the user goes, not only the one used: an
    // older link still lying in a mailbox must not be able to replace the
    // credentials just set.
    Result<Stmt> stmt = Stmt::Prepare(db(), "DELETE FROM signup_tokens WHERE user_name = ?1");
    if (!stmt) return stmt.error();
    GATE_RETURN_IF_ERROR(stmt->Text(1, token->user).Run());
    return Status::Ok();
  });
}

Status SqliteStore::DeleteExpiredSignupTokens(std::int64_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<Stmt> stmt = Stmt::Prepare(db(), "DELETE FROM signup_tokens WHERE expires_at <= ?1");
  if (!stmt) return stmt.error();
  return stmt->Int(1, now).Run();
}

// --- Certificates ----------------------------------------------------------------

Status SqliteStore::RecordCertificate(const IssuedCertificate& cert) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<Stmt> stmt = Stmt::Prepare(
      db(),
      "INSERT INTO certificates (serial, user_name, key_id, valid_after, valid_before, issued_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!stmt) return stmt.error();
  stmt->Int(1, std::bit_cast<std::int64_t>(cert.serial))
      .Text(2, cert.user)
      .Text(3, cert.key_id)
      .Int(4, cert.valid_after)
      .Int(5, cert.valid_before)
      .Int(6, cert.issued_at);
  return stmt->Insert(
      AlreadyExists("certificate serial " + std::to_string(cert.serial) + " was already used"),
      Internal("sqlite: unexpected foreign key violation"));
}

Result<std::vector<IssuedCertificate>> SqliteStore::ListCertificates(const std::string& user) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<Stmt> stmt = Stmt::Prepare(
      db(),
      "SELECT serial, user_name, key_id, valid_after, valid_before, issued_at FROM certificates"
      " WHERE user_name = ?1 ORDER BY issued_at, serial");
  if (!stmt) return Err(stmt.error());
  stmt->Text(1, user);
  std::vector<IssuedCertificate> certs;
  GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] {
    IssuedCertificate& cert = certs.emplace_back();
    cert.serial = std::bit_cast<std::uint64_t>(stmt->ColumnInt(0));
    cert.user = stmt->ColumnText(1);
    cert.key_id = stmt->ColumnText(2);
    cert.valid_after = stmt->ColumnInt(3);
    cert.valid_before = stmt->ColumnInt(4);
    cert.issued_at = stmt->ColumnInt(5);
  }));
  return certs;
}

// --- Audit -----------------------------------------------------------------------

Status SqliteStore::AppendAudit(const AuditEvent& event) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<Stmt> stmt =
      Stmt::Prepare(db(),
                    "INSERT INTO audit (time, event, user_name, source, success, detail)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!stmt) return stmt.error();
  return stmt->Int(1, event.time)
      .Text(2, event.event)
      .Text(3, event.user)
      .Text(4, event.source)
      .Int(5, event.success ? 1 : 0)
      .Text(6, event.detail)
      .Run();
}

Result<std::vector<AuditEvent>> SqliteStore::ListAudit(const AuditQuery& query) {
  std::lock_guard<std::mutex> lock(mu_);
  // Newest first by append order (id), not by `time`: the clock can step
  // backwards, the order of appends cannot. The prefix is compared with
  // substr, not LIKE, so '%' and '_' in it mean themselves.
  Result<Stmt> stmt =
      Stmt::Prepare(db(),
                    "SELECT time, event, user_name, source, success, detail FROM audit"
                    " WHERE (?2 = '' OR user_name = ?2)"
                    " AND substr(event, 1, length(?3)) = ?3"
                    " AND time >= ?4 AND (?5 < 0 OR success = ?5)"
                    " ORDER BY id DESC LIMIT ?1");
  if (!stmt) return Err(stmt.error());
  constexpr auto kMaxLimit = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  stmt->Int(1, static_cast<std::int64_t>(std::min(query.limit, kMaxLimit)))
      .Text(2, query.user)
      .Text(3, query.event_prefix)
      .Int(4, query.since)
      .Int(5, query.success.has_value() ? (*query.success ? 1 : 0) : -1);
  std::vector<AuditEvent> events;
  GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] {
    AuditEvent& event = events.emplace_back();
    event.time = stmt->ColumnInt(0);
    event.event = stmt->ColumnText(1);
    event.user = stmt->ColumnText(2);
    event.source = stmt->ColumnText(3);
    event.success = stmt->ColumnInt(4) != 0;
    event.detail = stmt->ColumnText(5);
  }));
  return events;
}

// --- Label sets -------------------------------------------------------------------

Result<policy::Labels> SqliteStore::LoadLabels(const LabelTable& table, const std::string& owner) {
  Result<Stmt> stmt = Stmt::Prepare(db(), table.select_one);
  if (!stmt) return Err(stmt.error());
  stmt->Text(1, owner);
  policy::Labels labels;
  GATE_RETURN_IF_ERROR(
      stmt->ForEachRow([&] { labels.emplace(stmt->ColumnText(0), stmt->ColumnText(1)); }));
  return labels;
}

Result<std::map<std::string, policy::Labels, std::less<>>> SqliteStore::LoadAllLabels(
    const LabelTable& table) {
  Result<Stmt> stmt = Stmt::Prepare(db(), table.select_all);
  if (!stmt) return Err(stmt.error());
  std::map<std::string, policy::Labels, std::less<>> all;
  GATE_RETURN_IF_ERROR(stmt->ForEachRow(
      [&] { all[stmt->ColumnText(0)].emplace(stmt->ColumnText(1), stmt->ColumnText(2)); }));
  return all;
}

Status SqliteStore::StoreLabels(const LabelTable& table, const std::string& owner,
                                const policy::Labels& labels) {
  for (const auto& [name, value] : labels) {
    Result<Stmt> stmt = Stmt::Prepare(db(), table.insert);
    if (!stmt) return stmt.error();
    GATE_RETURN_IF_ERROR(stmt->Text(1, owner).Text(2, name).Text(3, value).Run());
  }
  return Status::Ok();
}

// --- Users (updates) ----------------------------------------------------------------

Result<UserRecord> SqliteStore::UpdateUser(const std::string& name,
                                           const std::optional<std::vector<std::string>>& logins,
                                           const std::optional<std::vector<std::string>>& roles) {
  return InTransaction(Transaction::Kind::kWrite, [&]() -> Result<UserRecord> {
    {
      Result<UserRecord> user = LoadUser(name);
      if (!user) return user;
    }
    if (roles) {
      for (const std::string& role : *roles) {
        Result<Stmt> stmt = Stmt::Prepare(db(), "SELECT 1 FROM roles WHERE name = ?1");
        if (!stmt) return Err(stmt.error());
        Result<bool> row = stmt->Text(1, role).Step();
        if (!row) return Err(row.error());
        if (!*row) return Err(RoleNotFound(role));
      }
    }
    for (const auto& [table, values] : {std::pair{&kLogins, &logins}, std::pair{&kRoles, &roles}}) {
      if (!values->has_value()) continue;
      Result<Stmt> stmt = Stmt::Prepare(db(), table->remove);
      if (!stmt) return Err(stmt.error());
      GATE_RETURN_IF_ERROR(stmt->Text(1, name).Run());
      GATE_RETURN_IF_ERROR(StoreList(*table, name, **values));
    }
    return LoadUser(name);
  });
}

// --- Roles ---------------------------------------------------------------------------

Result<policy::Role> SqliteStore::LoadRole(const std::string& name) {
  Result<Stmt> stmt =
      Stmt::Prepare(db(), std::string("SELECT ") + kRoleColumns + " FROM roles WHERE name = ?1");
  if (!stmt) return Err(stmt.error());
  Result<bool> row = stmt->Text(1, name).Step();
  if (!row) return Err(row.error());
  if (!*row) return Err(RoleNotFound(name));
  policy::Role role = ReadRoleRow(*stmt);
  Result<std::vector<std::string>> logins = LoadList(kRoleLogins, name);
  if (!logins) return Err(logins.error());
  Result<policy::Labels> labels = LoadLabels(kRoleLabels, name);
  if (!labels) return Err(labels.error());
  role.logins = *std::move(logins);
  role.node_labels = *std::move(labels);
  return role;
}

Status SqliteStore::StoreRoleChildren(const policy::Role& role) {
  GATE_RETURN_IF_ERROR(StoreList(kRoleLogins, role.name, role.logins));
  return StoreLabels(kRoleLabels, role.name, role.node_labels);
}

Status CheckRoleFields(const policy::Role& role) {
  if (role.name.empty()) return InvalidArgument("role name must not be empty");
  if (role.max_ttl.count() < 0) return InvalidArgument("role max_ttl must not be negative");
  return Status::Ok();
}

// ?1..?7 in kRoleColumns' order, for both INSERT and UPDATE.
void BindRoleRow(Stmt& stmt, const policy::Role& role) {
  stmt.Text(1, role.name)
      .Int(2, role.max_ttl.count())
      .Int(3, role.permit_pty ? 1 : 0)
      .Int(4, role.permit_port_forwarding ? 1 : 0)
      .Int(5, role.permit_agent_forwarding ? 1 : 0)
      .Int(6, role.record_sessions ? 1 : 0)
      .Int(7, role.join_sessions ? 1 : 0);
}

Status SqliteStore::CreateRole(const policy::Role& role) {
  GATE_RETURN_IF_ERROR(CheckRoleFields(role));
  return InTransaction(Transaction::Kind::kWrite, [&]() -> Status {
    {
      Result<Stmt> stmt = Stmt::Prepare(db(), std::string("INSERT INTO roles (") + kRoleColumns +
                                                  ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
      if (!stmt) return stmt.error();
      BindRoleRow(*stmt, role);
      GATE_RETURN_IF_ERROR(stmt->Insert(AlreadyExists("role '" + role.name + "' already exists"),
                                        Internal("sqlite: unexpected foreign key violation")));
    }
    GATE_RETURN_IF_ERROR(StoreRoleChildren(role));
    return Status::Ok();
  });
}

Status SqliteStore::ReplaceRole(const policy::Role& role) {
  {
    Result<Stmt> stmt =
        Stmt::Prepare(db(),
                      "UPDATE roles SET max_ttl = ?2, permit_pty = ?3, permit_port_forwarding = ?4,"
                      " permit_agent_forwarding = ?5, record_sessions = ?6, join_sessions = ?7"
                      " WHERE name = ?1");
    if (!stmt) return stmt.error();
    BindRoleRow(*stmt, role);
    Result<int> changed = Change(*stmt);
    if (!changed) return changed.error();
    if (*changed == 0) return RoleNotFound(role.name);
  }
  for (const char* sql : {kRoleLogins.remove, kRoleLabels.remove}) {
    Result<Stmt> stmt = Stmt::Prepare(db(), sql);
    if (!stmt) return stmt.error();
    GATE_RETURN_IF_ERROR(stmt->Text(1, role.name).Run());
  }
  GATE_RETURN_IF_ERROR(StoreRoleChildren(role));
  return Status::Ok();
}

Status SqliteStore::UpdateRole(const policy::Role& role) {
  GATE_RETURN_IF_ERROR(CheckRoleFields(role));
  return InTransaction(Transaction::Kind::kWrite, [&]() -> Status { return ReplaceRole(role); });
}

Result<policy::Role> SqliteStore::ModifyRole(const std::string& name, const RoleChange& change) {
  return InTransaction(Transaction::Kind::kWrite, [&]() -> Result<policy::Role> {
    Result<policy::Role> stored = LoadRole(name);
    if (!stored) return stored;
    Result<policy::Role> changed = change(*stored);
    if (!changed) return changed;
    if (changed->name != name) {
      return Err(
          InvalidArgument("role '" + name + "' cannot be renamed to '" + changed->name + "'"));
    }
    GATE_RETURN_IF_ERROR(CheckRoleFields(*changed));
    GATE_RETURN_IF_ERROR(ReplaceRole(*changed));
    return changed;
  });
}

Result<policy::Role> SqliteStore::GetRole(const std::string& name) {
  return InTransaction(Transaction::Kind::kRead,
                       [&]() -> Result<policy::Role> { return LoadRole(name); });
}

Result<std::vector<policy::Role>> SqliteStore::ListRoles() {
  return InTransaction(Transaction::Kind::kRead, [&]() -> Result<std::vector<policy::Role>> {
    std::vector<policy::Role> roles;
    std::map<std::string, std::size_t, std::less<>> index;
    {
      Result<Stmt> stmt =
          Stmt::Prepare(db(), std::string("SELECT ") + kRoleColumns + " FROM roles ORDER BY name");
      if (!stmt) return Err(stmt.error());
      GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] {
        roles.push_back(ReadRoleRow(*stmt));
        index.emplace(roles.back().name, roles.size() - 1);
      }));
    }
    {
      Result<Stmt> stmt = Stmt::Prepare(db(), kRoleLogins.select_all);
      if (!stmt) return Err(stmt.error());
      GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] {
        auto it = index.find(stmt->ColumnText(0));
        if (it != index.end()) roles[it->second].logins.push_back(stmt->ColumnText(1));
      }));
    }
    auto labels = LoadAllLabels(kRoleLabels);
    if (!labels) return Err(labels.error());
    for (auto& role : roles) {
      if (auto it = labels->find(role.name); it != labels->end()) role.node_labels = it->second;
    }
    return roles;
  });
}

Status SqliteStore::DeleteRole(const std::string& name) {
  return InTransaction(Transaction::Kind::kWrite, [&]() -> Status {
    {
      Result<Stmt> stmt = Stmt::Prepare(db(), "SELECT 1 FROM roles WHERE name = ?1");
      if (!stmt) return stmt.error();
      Result<bool> row = stmt->Text(1, name).Step();
      if (!row) return row.error();
      if (!*row) return RoleNotFound(name);
    }
    {
      // Name a few holders, enough for the admin to act on.
      constexpr int kNamed = 5;
      Result<Stmt> stmt = Stmt::Prepare(
          db(),
          "SELECT DISTINCT user_name FROM user_roles WHERE role = ?1 ORDER BY user_name LIMIT ?2");
      if (!stmt) return stmt.error();
      stmt->Text(1, name).Int(2, kNamed + 1);
      std::vector<std::string> holders;
      GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] { holders.push_back(stmt->ColumnText(0)); }));
      if (!holders.empty()) {
        std::string list;
        for (std::size_t i = 0; i < holders.size() && i < kNamed; ++i) {
          list += (i == 0 ? "" : ", ") + holders[i];
        }
        if (holders.size() > kNamed) list += " and others";
        return FailedPrecondition("role '" + name + "' is still held by " + list);
      }
    }
    for (const char* sql :
         {kRoleLogins.remove, kRoleLabels.remove, "DELETE FROM roles WHERE name = ?1"}) {
      Result<Stmt> stmt = Stmt::Prepare(db(), sql);
      if (!stmt) return stmt.error();
      GATE_RETURN_IF_ERROR(stmt->Text(1, name).Run());
    }
    return Status::Ok();
  });
}

// --- Locks -----------------------------------------------------------------------

Status SqliteStore::SetLock(const LockRecord& lock_record) {
  if (lock_record.user.empty()) return InvalidArgument("lock user must not be empty");
  std::lock_guard<std::mutex> lock(mu_);
  Result<Stmt> stmt = Stmt::Prepare(
      db(),
      "INSERT INTO locks (user_name, expires_at, message, created_at) VALUES (?1, ?2, ?3, ?4)"
      " ON CONFLICT (user_name) DO UPDATE SET expires_at = excluded.expires_at,"
      " message = excluded.message, created_at = excluded.created_at");
  if (!stmt) return stmt.error();
  stmt->Text(1, lock_record.user)
      .Int(2, lock_record.expires_at)
      .Text(3, lock_record.message)
      .Int(4, lock_record.created_at);
  return stmt->Insert(Internal("sqlite: unexpected conflict on locks"),
                      UserNotFound(lock_record.user));
}

Status SqliteStore::DeleteLock(const std::string& user) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<Stmt> stmt = Stmt::Prepare(db(), "DELETE FROM locks WHERE user_name = ?1");
  if (!stmt) return stmt.error();
  stmt->Text(1, user);
  Result<int> changed = Change(*stmt);
  if (!changed) return changed.error();
  if (*changed == 0) return NotFound("user '" + user + "' is not locked");
  return Status::Ok();
}

Result<std::vector<LockRecord>> SqliteStore::ListLocks() {
  std::lock_guard<std::mutex> lock(mu_);
  Result<Stmt> stmt = Stmt::Prepare(
      db(), "SELECT user_name, expires_at, message, created_at FROM locks ORDER BY user_name");
  if (!stmt) return Err(stmt.error());
  std::vector<LockRecord> locks;
  GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] {
    LockRecord& l = locks.emplace_back();
    l.user = stmt->ColumnText(0);
    l.expires_at = stmt->ColumnInt(1);
    l.message = stmt->ColumnText(2);
    l.created_at = stmt->ColumnInt(3);
  }));
  return locks;
}

// --- Node join tokens -------------------------------------------------------------

Result<NodeToken> SqliteStore::LoadNodeToken(const std::string& token_hash) {
  Result<Stmt> stmt = Stmt::Prepare(
      db(), "SELECT token_hash, created_at, expires_at FROM node_tokens WHERE token_hash = ?1");
  if (!stmt) return Err(stmt.error());
  Result<bool> row = stmt->Text(1, token_hash).Step();
  if (!row) return Err(row.error());
  if (!*row) return Err(NodeTokenNotFound());
  NodeToken token;
  token.token_hash = stmt->ColumnText(0);
  token.created_at = stmt->ColumnInt(1);
  token.expires_at = stmt->ColumnInt(2);
  Result<policy::Labels> labels = LoadLabels(kTokenLabels, token_hash);
  if (!labels) return Err(labels.error());
  token.labels = *std::move(labels);
  return token;
}

Status SqliteStore::CreateNodeToken(const NodeToken& token) {
  if (token.token_hash.empty()) return InvalidArgument("node token hash must not be empty");
  return InTransaction(Transaction::Kind::kWrite, [&]() -> Status {
    {
      Result<Stmt> stmt = Stmt::Prepare(
          db(), "INSERT INTO node_tokens (token_hash, created_at, expires_at) VALUES (?1, ?2, ?3)");
      if (!stmt) return stmt.error();
      stmt->Text(1, token.token_hash).Int(2, token.created_at).Int(3, token.expires_at);
      GATE_RETURN_IF_ERROR(stmt->Insert(AlreadyExists("node token already exists"),
                                        Internal("sqlite: unexpected foreign key violation")));
    }
    GATE_RETURN_IF_ERROR(StoreLabels(kTokenLabels, token.token_hash, token.labels));
    return Status::Ok();
  });
}

Result<NodeToken> SqliteStore::GetNodeToken(const std::string& token_hash) {
  return InTransaction(Transaction::Kind::kRead,
                       [&]() -> Result<NodeToken> { return LoadNodeToken(token_hash); });
}

Status SqliteStore::DeleteExpiredNodeTokens(std::int64_t now) {
  return InTransaction(Transaction::Kind::kWrite, [&]() -> Status {
    for (const char* sql : {"DELETE FROM node_token_labels WHERE token_hash IN"
                            " (SELECT token_hash FROM node_tokens WHERE expires_at <= ?1)",
                            "DELETE FROM node_tokens WHERE expires_at <= ?1"}) {
      Result<Stmt> stmt = Stmt::Prepare(db(), sql);
      if (!stmt) return stmt.error();
      GATE_RETURN_IF_ERROR(stmt->Int(1, now).Run());
    }
    return Status::Ok();
  });
}

// --- Nodes ---------------------------------------------------------------------------

Result<NodeRecord> SqliteStore::LoadNode(const std::string& host_uuid) {
  Result<Stmt> stmt = Stmt::Prepare(
      db(), std::string("SELECT ") + kNodeColumns + " FROM nodes WHERE host_uuid = ?1");
  if (!stmt) return Err(stmt.error());
  Result<bool> row = stmt->Text(1, host_uuid).Step();
  if (!row) return Err(row.error());
  if (!*row) return Err(NodeNotFound(host_uuid));
  NodeRecord node = ReadNodeRow(*stmt);
  Result<policy::Labels> labels = LoadLabels(kNodeLabels, host_uuid);
  if (!labels) return Err(labels.error());
  node.labels = *std::move(labels);
  return node;
}

Status SqliteStore::CompleteNodeJoin(const std::string& token_hash, std::int64_t now,
                                     const NodeRecord& node) {
  if (node.host_uuid.empty()) return InvalidArgument("host UUID must not be empty");
  if (node.secret_hash.empty()) return InvalidArgument("node secret hash must not be empty");
  return InTransaction(Transaction::Kind::kWrite, [&]() -> Status {
    Result<NodeToken> token = LoadNodeToken(token_hash);
    if (!token) return token.error();
    if (token->expires_at <= now) return FailedPrecondition("node join token expired");
    for (const char* sql : {kTokenLabels.remove, "DELETE FROM node_tokens WHERE token_hash = ?1"}) {
      Result<Stmt> stmt = Stmt::Prepare(db(), sql);
      if (!stmt) return stmt.error();
      GATE_RETURN_IF_ERROR(stmt->Text(1, token_hash).Run());
    }
    {
      Result<Stmt> stmt = Stmt::Prepare(db(), std::string("INSERT INTO nodes (") + kNodeColumns +
                                                  ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
      if (!stmt) return stmt.error();
      stmt->Text(1, node.host_uuid)
          .Text(2, node.hostname)
          .Text(3, node.host_key)
          .Text(4, node.secret_hash)
          .Int(5, node.joined_at)
          .Int(6, node.last_sync)
          .Text(7, node.recorder_key);
      GATE_RETURN_IF_ERROR(
          stmt->Insert(AlreadyExists("node '" + node.host_uuid + "' already exists"),
                       Internal("sqlite: unexpected foreign key violation")));
    }
    GATE_RETURN_IF_ERROR(StoreLabels(kNodeLabels, node.host_uuid, node.labels));
    return Status::Ok();
  });
}

Result<NodeRecord> SqliteStore::GetNode(const std::string& host_uuid) {
  return InTransaction(Transaction::Kind::kRead,
                       [&]() -> Result<NodeRecord> { return LoadNode(host_uuid); });
}

Result<std::vector<NodeRecord>> SqliteStore::ListNodes() {
  return InTransaction(Transaction::Kind::kRead, [&]() -> Result<std::vector<NodeRecord>> {
    std::vector<NodeRecord> nodes;
    {
      Result<Stmt> stmt = Stmt::Prepare(
          db(), std::string("SELECT ") + kNodeColumns + " FROM nodes ORDER BY hostname, host_uuid");
      if (!stmt) return Err(stmt.error());
      GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] { nodes.push_back(ReadNodeRow(*stmt)); }));
    }
    auto labels = LoadAllLabels(kNodeLabels);
    if (!labels) return Err(labels.error());
    for (auto& node : nodes) {
      if (auto it = labels->find(node.host_uuid); it != labels->end()) node.labels = it->second;
    }
    return nodes;
  });
}

Status SqliteStore::DeleteNode(const std::string& host_uuid) {
  return InTransaction(Transaction::Kind::kWrite, [&]() -> Status {
    {
      Result<Stmt> stmt = Stmt::Prepare(db(), kNodeLabels.remove);
      if (!stmt) return stmt.error();
      GATE_RETURN_IF_ERROR(stmt->Text(1, host_uuid).Run());
    }
    Result<Stmt> stmt = Stmt::Prepare(db(), "DELETE FROM nodes WHERE host_uuid = ?1");
    if (!stmt) return stmt.error();
    stmt->Text(1, host_uuid);
    Result<int> changed = Change(*stmt);
    if (!changed) return changed.error();
    if (*changed == 0) return NodeNotFound(host_uuid);
    return Status::Ok();
  });
}

Status SqliteStore::RecordNodeSync(const std::string& host_uuid, std::int64_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<Stmt> stmt = Stmt::Prepare(db(), "UPDATE nodes SET last_sync = ?2 WHERE host_uuid = ?1");
  if (!stmt) return stmt.error();
  stmt->Text(1, host_uuid).Int(2, now);
  Result<int> changed = Change(*stmt);
  if (!changed) return changed.error();
  if (*changed == 0) return NodeNotFound(host_uuid);
  return Status::Ok();
}

Status SqliteStore::SetNodeRecorderKey(const std::string& host_uuid, const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<Stmt> stmt =
      Stmt::Prepare(db(), "UPDATE nodes SET recorder_key = ?2 WHERE host_uuid = ?1");
  if (!stmt) return stmt.error();
  stmt->Text(1, host_uuid).Text(2, key);
  Result<int> changed = Change(*stmt);
  if (!changed) return changed.error();
  if (*changed == 0) return NodeNotFound(host_uuid);
  return Status::Ok();
}

// --- Sessions ------------------------------------------------------------------------

Status SqliteStore::CreateSession(const SessionRecord& session) {
  if (session.id.empty()) return InvalidArgument("session id must not be empty");
  if (session.size < 0) return InvalidArgument("session size must not be negative");
  std::lock_guard<std::mutex> lock(mu_);
  Result<Stmt> stmt = Stmt::Prepare(
      db(), std::string("INSERT INTO sessions (") + kSessionColumns +
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)");
  if (!stmt) return stmt.error();
  stmt->Text(1, session.id)
      .Text(2, session.user)
      .Text(3, session.login)
      .Text(4, session.host_uuid)
      .Text(5, session.node_name)
      .Text(6, session.mode)
      .Int(7, session.started_at)
      .Int(8, session.ended_at)
      .Int(9, session.live ? 1 : 0)
      .Int(10, session.size)
      .Int(11, session.created_at)
      .Int(12, session.completed_at)
      .Text(13, session.sha256)
      .Int(14, session.verified ? 1 : 0)
      .Text(15, session.verify_detail)
      .Text(16, session.exit);
  return stmt->Insert(AlreadyExists("session '" + session.id + "' already exists"),
                      Internal("sqlite: unexpected foreign key violation"));
}

Result<SessionRecord> SqliteStore::GetSession(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<Stmt> stmt = Stmt::Prepare(
      db(), std::string("SELECT ") + kSessionColumns + " FROM sessions WHERE id = ?1");
  if (!stmt) return Err(stmt.error());
  Result<bool> row = stmt->Text(1, id).Step();
  if (!row) return Err(row.error());
  if (!*row) return Err(SessionNotFound(id));
  return ReadSessionRow(*stmt);
}

Result<std::vector<SessionRecord>> SqliteStore::ListSessionsCompletedBefore(std::int64_t before,
                                                                            std::size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<Stmt> stmt = Stmt::Prepare(db(), std::string("SELECT ") + kSessionColumns +
                                              " FROM sessions WHERE live = 0 AND completed_at < ?1"
                                              " ORDER BY completed_at, id LIMIT ?2");
  if (!stmt) return Err(stmt.error());
  stmt->Int(1, before).Int(2, static_cast<std::int64_t>(std::min<std::size_t>(
                                  limit, std::numeric_limits<std::int64_t>::max())));
  std::vector<SessionRecord> sessions;
  GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] { sessions.push_back(ReadSessionRow(*stmt)); }));
  return sessions;
}

Status SqliteStore::DeleteSession(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<Stmt> stmt = Stmt::Prepare(db(), "DELETE FROM sessions WHERE id = ?1");
  if (!stmt) return stmt.error();
  stmt->Text(1, id);
  Result<int> changed = Change(*stmt);
  if (!changed) return changed.error();
  if (*changed == 0) return SessionNotFound(id);
  return Status::Ok();
}

Status SqliteStore::SetSessionSize(const std::string& id, std::int64_t size) {
  if (size < 0) return InvalidArgument("session size must not be negative");
  std::lock_guard<std::mutex> lock(mu_);
  Result<Stmt> stmt = Stmt::Prepare(db(), "UPDATE sessions SET size = ?2 WHERE id = ?1");
  if (!stmt) return stmt.error();
  stmt->Text(1, id).Int(2, size);
  Result<int> changed = Change(*stmt);
  if (!changed) return changed.error();
  if (*changed == 0) return SessionNotFound(id);
  return Status::Ok();
}

Status SqliteStore::CompleteSession(const SessionRecord& session) {
  if (session.size < 0) return InvalidArgument("session size must not be negative");
  std::lock_guard<std::mutex> lock(mu_);
  Result<Stmt> stmt = Stmt::Prepare(
      db(),
      "UPDATE sessions SET live = 0, ended_at = ?2, size = ?3, completed_at = ?4, sha256 = ?5,"
      " verified = ?6, verify_detail = ?7, exit_data = ?8 WHERE id = ?1");
  if (!stmt) return stmt.error();
  stmt->Text(1, session.id)
      .Int(2, session.ended_at)
      .Int(3, session.size)
      .Int(4, session.completed_at)
      .Text(5, session.sha256)
      .Int(6, session.verified ? 1 : 0)
      .Text(7, session.verify_detail)
      .Text(8, session.exit);
  Result<int> changed = Change(*stmt);
  if (!changed) return changed.error();
  if (*changed == 0) return SessionNotFound(session.id);
  return Status::Ok();
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
  std::lock_guard<std::mutex> lock(mu_);
  Result<Stmt> stmt =
      Stmt::Prepare(db(), std::string("SELECT ") + kSessionColumns +
                              " FROM sessions WHERE"
                              " (?1 < 0 OR live = ?1)"
                              " AND (?2 = '' OR user_name = ?2)"
                              " AND (?3 = '' OR host_uuid = ?3 OR node_name = ?3)"
                              " AND (started_at >= ?4 OR live = 1)"
                              " AND (?5 = 0 OR user_name = ?6"
                              "      OR host_uuid IN (SELECT value FROM json_each(?7)))"
                              " ORDER BY started_at DESC, id DESC LIMIT ?8");
  if (!stmt) return Err(stmt.error());
  const std::int64_t limit = static_cast<std::int64_t>(std::min<std::size_t>(
      filter.limit, static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())));
  stmt->Int(1, filter.live ? (*filter.live ? 1 : 0) : -1)
      .Text(2, filter.user)
      .Text(3, filter.node)
      .Int(4, filter.since)
      .Int(5, filter.visible_to ? 1 : 0)
      .Text(6, filter.visible_to ? filter.visible_to->owner : std::string())
      .Text(7, nodes_json)
      .Int(8, limit);
  std::vector<SessionRecord> sessions;
  GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] { sessions.push_back(ReadSessionRow(*stmt)); }));
  return sessions;
}

Result<std::int64_t> SqliteStore::CountLiveSessions(const std::string& host_uuid) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<Stmt> stmt =
      Stmt::Prepare(db(), "SELECT count(*) FROM sessions WHERE host_uuid = ?1 AND live = 1");
  if (!stmt) return Err(stmt.error());
  Result<bool> row = stmt->Text(1, host_uuid).Step();
  if (!row) return Err(row.error());
  if (!*row) return Err(Internal("sqlite: count returned no row"));
  return stmt->ColumnInt(0);
}

// --- Revocations -------------------------------------------------------------------

Status SqliteStore::BumpRevocationVersion() {
  Result<Stmt> stmt =
      Stmt::Prepare(db(), "UPDATE revocation_version SET version = version + 1 WHERE id = 1");
  if (!stmt) return stmt.error();
  Result<int> changed = Change(*stmt);
  if (!changed) return changed.error();
  if (*changed != 1) return DataLoss("sqlite: the revocation version row is missing");
  return Status::Ok();
}

Result<Revocation> SqliteStore::RevokeCertificate(std::uint64_t serial, std::int64_t now) {
  return InTransaction(Transaction::Kind::kWrite, [&]() -> Result<Revocation> {
    const std::int64_t key = std::bit_cast<std::int64_t>(serial);
    {
      Result<Stmt> stmt = Stmt::Prepare(db(), std::string("SELECT ") + kRevocationColumns +
                                                  " FROM revocations WHERE serial = ?1");
      if (!stmt) return Err(stmt.error());
      Result<bool> row = stmt->Int(1, key).Step();
      if (!row) return Err(row.error());
      if (*row) return ReadRevocationRow(*stmt);  // already revoked: nothing changes
    }
    Revocation revocation;
    revocation.serial = serial;
    revocation.revoked_at = now;
    {
      Result<Stmt> stmt =
          Stmt::Prepare(db(), "SELECT user_name, valid_before FROM certificates WHERE serial = ?1");
      if (!stmt) return Err(stmt.error());
      Result<bool> row = stmt->Int(1, key).Step();
      if (!row) return Err(row.error());
      if (!*row) {
        return Err(NotFound("no certificate with serial " + std::to_string(serial) +
                            " was issued by this CA"));
      }
      revocation.user = stmt->ColumnText(0);
      revocation.valid_before = stmt->ColumnInt(1);
    }
    {
      Result<Stmt> stmt = Stmt::Prepare(db(), std::string("INSERT INTO revocations (") +
                                                  kRevocationColumns + ") VALUES (?1, ?2, ?3, ?4)");
      if (!stmt) return Err(stmt.error());
      GATE_RETURN_IF_ERROR(stmt->Int(1, key)
                               .Text(2, revocation.user)
                               .Int(3, revocation.revoked_at)
                               .Int(4, revocation.valid_before)
                               .Run());
    }
    GATE_RETURN_IF_ERROR(BumpRevocationVersion());
    return revocation;
  });
}

Result<std::vector<Revocation>> SqliteStore::RevokeUserCertificates(const std::string& user,
                                                                    std::int64_t now) {
  return InTransaction(Transaction::Kind::kWrite, [&]() -> Result<std::vector<Revocation>> {
    std::vector<Revocation> revoked;
    {
      Result<Stmt> stmt = Stmt::Prepare(
          db(),
          "SELECT serial, valid_before FROM certificates WHERE user_name = ?1"
          " AND valid_before > ?2 AND serial NOT IN (SELECT serial FROM revocations)");
      if (!stmt) return Err(stmt.error());
      stmt->Text(1, user).Int(2, now);
      GATE_RETURN_IF_ERROR(stmt->ForEachRow([&] {
        Revocation& r = revoked.emplace_back();
        r.serial = std::bit_cast<std::uint64_t>(stmt->ColumnInt(0));
        r.user = user;
        r.revoked_at = now;
        r.valid_before = stmt->ColumnInt(1);
      }));
    }
    if (revoked.empty()) return revoked;
    for (const Revocation& r : revoked) {
      Result<Stmt> stmt = Stmt::Prepare(db(), std::string("INSERT INTO revocations (") +
                                                  kRevocationColumns + ") VALUES (?1, ?2, ?3, ?4)");
      if (!stmt) return Err(stmt.error());
      GATE_RETURN_IF_ERROR(stmt->Int(1, std::bit_cast<std::int64_t>(r.serial))
                               .Text(2, r.user)
                               .Int(3, r.revoked_at)
                               .Int(4, r.valid_before)
                               .Run());
    }
    GATE_RETURN_IF_ERROR(BumpRevocationVersion());
    SortBySerial(revoked);
    return revoked;
  });
}

Result<RevocationList> SqliteStore::ListRevocations(std::int64_t now) {
  return InTransaction(Transaction::Kind::kRead, [&]() -> Result<RevocationList> {
    RevocationList list;
    {
      Result<Stmt> stmt =
          Stmt::Prepare(db(), "SELECT version FROM revocation_version WHERE id = 1");
      if (!stmt) return Err(stmt.error());
      Result<bool> row = stmt->Step();
      if (!row) return Err(row.error());
      if (!*row) return Err(DataLoss("sqlite: the revocation version row is missing"));
      list.version = static_cast<std::uint64_t>(stmt->ColumnInt(0));
    }
    {
      Result<Stmt> stmt = Stmt::Prepare(db(), std::string("SELECT ") + kRevocationColumns +
                                                  " FROM revocations WHERE valid_before > ?1");
      if (!stmt) return Err(stmt.error());
      stmt->Int(1, now);
      GATE_RETURN_IF_ERROR(
          stmt->ForEachRow([&] { list.revocations.push_back(ReadRevocationRow(*stmt)); }));
    }
    SortBySerial(list.revocations);
    return list;
  });
}

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path) {
  if (path.empty()) return Err(InvalidArgument("database path must not be empty"));

  struct stat file_stat {};
  Result<UniqueFd> fd = OpenDatabaseFile(path, &file_stat);
  if (!fd) return Err(fd.error());
  GATE_RETURN_IF_ERROR(CheckSidecar(path + "-wal"));
  GATE_RETURN_IF_ERROR(CheckSidecar(path + "-shm"));

  // No SQLITE_OPEN_CREATE: SQLite must open the file vetted above, not make
  // one of its own. NOMUTEX because mu_ already serialises every use.
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) {
    return Err(SqliteError(db.get(), rc, "open").WithContext(path));
  }
  // If the path was swapped for another file between our open() and
  // SQLite's, the checks above were about the wrong file.
  struct stat path_stat {};
  if (::lstat(path.c_str(), &path_stat) != 0 || path_stat.st_dev != file_stat.st_dev ||
      path_stat.st_ino != file_stat.st_ino) {
    return Err(PermissionDenied(path + " was replaced while being opened; refusing it"));
  }
  // Closed before SQLite takes any lock: closing any descriptor of a file
  // drops all of this process's POSIX locks on it, SQLite's included.
  fd->Reset();

  if (Status s = Configure(db.get()); !s.ok()) return Err(s.WithContext(path));
  if (Status s = Migrate(db.get()); !s.ok()) return Err(s.WithContext(path));
  return std::unique_ptr<Store>(std::make_unique<SqliteStore>(std::move(db)));
}

}  // namespace gate::ca
