#include "ca-server/store/sqlite_schema.h"

#include <iterator>
#include <string>

namespace gate::ca::sqlite {
namespace {

// How long a statement waits for another connection or process (gatectl, a
// backup) holding the write lock before failing with Unavailable.
constexpr int kBusyTimeoutMs = 5000;

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
    // Login throttling per user name and source (auth/login_throttle.h).
    // Keyed by the name as typed, with no foreign key: unknown names are
    // counted like known ones. users.failed_attempts and users.locked_until
    // are no longer read or written (a lockout in force at the upgrade ends
    // with it); they stay, as columns are never dropped in a migration.
    {5, R"sql(
CREATE TABLE login_failures (
  user_name     TEXT NOT NULL,
  source        TEXT NOT NULL,
  count         INTEGER NOT NULL CHECK (count >= 0),
  window_start  INTEGER NOT NULL,
  blocked_until INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user_name, source)
) STRICT, WITHOUT ROWID;
CREATE INDEX login_failures_by_window ON login_failures(window_start);
)sql"},
    // The host names a node's certificate may carry: decided by gate-ca (the
    // hostname given at join plus names an admin approved on the join token
    // or with gatectl nodes update), never by the node, and each name belongs
    // to one node. Nodes joined before keep their hostname; of two with the
    // same hostname, the one that joined first keeps it.
    {6, R"sql(
CREATE TABLE node_principals (
  host_uuid TEXT NOT NULL REFERENCES nodes(host_uuid) ON DELETE CASCADE,
  position  INTEGER NOT NULL,
  name      TEXT NOT NULL COLLATE NOCASE UNIQUE,
  PRIMARY KEY (host_uuid, position)
) STRICT, WITHOUT ROWID;

CREATE TABLE node_token_principals (
  token_hash TEXT NOT NULL REFERENCES node_tokens(token_hash) ON DELETE CASCADE,
  position   INTEGER NOT NULL,
  name       TEXT NOT NULL,
  PRIMARY KEY (token_hash, position)
) STRICT, WITHOUT ROWID;

INSERT OR IGNORE INTO node_principals (host_uuid, position, name)
  SELECT host_uuid, 0, hostname FROM nodes ORDER BY joined_at, host_uuid;
)sql"},
    // The policy revision and change log nodes sync by (policy_log_store.h,
    // docs/node-protocol.md "Sync"), and the revision each node last got.
    // Triggers move the revision in the transaction of every change to what a
    // node's policy is built from, whoever writes the rows; users' other
    // columns (credentials, OTP steps) and a node's sync bookkeeping do not
    // move it. The log keeps one entry per thing changed (its last
    // revision); PrunePolicyChanges bounds it.
    {7, R"sql(
CREATE TABLE policy_revision (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  revision INTEGER NOT NULL CHECK (revision >= 1),
  oldest   INTEGER NOT NULL CHECK (oldest >= 1)
) STRICT;
INSERT INTO policy_revision (id, revision, oldest) VALUES (1, 1, 1);

CREATE TABLE policy_changes (
  kind     TEXT NOT NULL,
  name     TEXT NOT NULL,
  revision INTEGER NOT NULL,
  PRIMARY KEY (kind, name)
) STRICT, WITHOUT ROWID;
CREATE INDEX policy_changes_by_revision ON policy_changes(revision);

ALTER TABLE nodes ADD COLUMN policy_revision INTEGER NOT NULL DEFAULT 0;

-- Every feeder below records what it touched here; this one trigger moves
-- the revision and logs it, and leaves the table empty.
CREATE TABLE policy_touches (kind TEXT NOT NULL, name TEXT NOT NULL) STRICT;
CREATE TRIGGER policy_touches_log AFTER INSERT ON policy_touches
BEGIN
  UPDATE policy_revision SET revision = revision + 1 WHERE id = 1;
  INSERT INTO policy_changes (kind, name, revision)
    VALUES (NEW.kind, NEW.name, (SELECT revision FROM policy_revision WHERE id = 1))
    ON CONFLICT (kind, name) DO UPDATE SET revision = excluded.revision;
  DELETE FROM policy_touches;
END;

CREATE TRIGGER users_insert_policy AFTER INSERT ON users
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('user', NEW.name); END;
CREATE TRIGGER users_delete_policy AFTER DELETE ON users
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('user', OLD.name); END;
CREATE TRIGGER user_logins_insert_policy AFTER INSERT ON user_logins
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('user', NEW.user_name); END;
CREATE TRIGGER user_logins_update_policy AFTER UPDATE ON user_logins
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('user', NEW.user_name); END;
CREATE TRIGGER user_logins_delete_policy AFTER DELETE ON user_logins
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('user', OLD.user_name); END;
CREATE TRIGGER user_roles_insert_policy AFTER INSERT ON user_roles
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('user', NEW.user_name); END;
CREATE TRIGGER user_roles_update_policy AFTER UPDATE ON user_roles
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('user', NEW.user_name); END;
CREATE TRIGGER user_roles_delete_policy AFTER DELETE ON user_roles
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('user', OLD.user_name); END;
CREATE TRIGGER roles_insert_policy AFTER INSERT ON roles
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('role', NEW.name); END;
CREATE TRIGGER roles_update_policy AFTER UPDATE ON roles
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('role', NEW.name); END;
CREATE TRIGGER roles_delete_policy AFTER DELETE ON roles
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('role', OLD.name); END;
CREATE TRIGGER role_logins_insert_policy AFTER INSERT ON role_logins
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('role', NEW.role_name); END;
CREATE TRIGGER role_logins_update_policy AFTER UPDATE ON role_logins
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('role', NEW.role_name); END;
CREATE TRIGGER role_logins_delete_policy AFTER DELETE ON role_logins
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('role', OLD.role_name); END;
CREATE TRIGGER role_node_labels_insert_policy AFTER INSERT ON role_node_labels
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('role', NEW.role_name); END;
CREATE TRIGGER role_node_labels_update_policy AFTER UPDATE ON role_node_labels
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('role', NEW.role_name); END;
CREATE TRIGGER role_node_labels_delete_policy AFTER DELETE ON role_node_labels
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('role', OLD.role_name); END;
CREATE TRIGGER locks_insert_policy AFTER INSERT ON locks
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('locks', ''); END;
CREATE TRIGGER locks_update_policy AFTER UPDATE ON locks
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('locks', ''); END;
CREATE TRIGGER locks_delete_policy AFTER DELETE ON locks
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('locks', ''); END;
CREATE TRIGGER revocations_insert_policy AFTER INSERT ON revocations
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('revocations', ''); END;
CREATE TRIGGER node_labels_insert_policy AFTER INSERT ON node_labels
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('node', NEW.host_uuid); END;
CREATE TRIGGER node_labels_update_policy AFTER UPDATE ON node_labels
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('node', NEW.host_uuid); END;
CREATE TRIGGER node_labels_delete_policy AFTER DELETE ON node_labels
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('node', OLD.host_uuid); END;
CREATE TRIGGER node_principals_insert_policy AFTER INSERT ON node_principals
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('node', NEW.host_uuid); END;
CREATE TRIGGER node_principals_update_policy AFTER UPDATE ON node_principals
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('node', NEW.host_uuid); END;
CREATE TRIGGER node_principals_delete_policy AFTER DELETE ON node_principals
  BEGIN INSERT INTO policy_touches (kind, name) VALUES ('node', OLD.host_uuid); END;
)sql"},
    // Session lists at 100,000 recordings: a node's sessions and the live
    // ones come newest first from an index instead of a scan
    // (sqlite_sessions.cc says how a list picks its plan).
    {8, R"sql(
CREATE INDEX sessions_by_host ON sessions(host_uuid, started_at);
CREATE INDEX sessions_by_node_name ON sessions(node_name, started_at);
CREATE INDEX sessions_live ON sessions(started_at, id) WHERE live = 1;
)sql"},
    // Browser sessions (web_session_store.h), by hash only, and the time a
    // signup token was used: a used token's hash stays (its secret goes) so
    // the signup page can tell a used link from one that never existed.
    {9, R"sql(
CREATE TABLE web_sessions (
  id_hash      TEXT PRIMARY KEY NOT NULL,
  user_name    TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  csrf_hash    TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  source       TEXT NOT NULL
) STRICT;
CREATE INDEX web_sessions_by_user ON web_sessions(user_name, created_at);
CREATE INDEX web_sessions_by_expiry ON web_sessions(expires_at);
CREATE INDEX web_sessions_by_last_seen ON web_sessions(last_seen_at);

ALTER TABLE signup_tokens ADD COLUMN used_at INTEGER NOT NULL DEFAULT 0;
)sql"},
    // Where gate-ca reaches a node's sshd as an SSH client (the browser
    // terminal); '' = the node's hostname, port 22.
    {10, R"sql(
ALTER TABLE nodes ADD COLUMN ssh_address TEXT NOT NULL DEFAULT '';
)sql"},
    // Users from a single sign-on connector: the connector's name and the
    // identity provider's subject (sub) they were created for; '' for
    // local users.
    {11, R"sql(
ALTER TABLE users ADD COLUMN connector TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN idp_subject TEXT NOT NULL DEFAULT '';
)sql"},
    // Several second-factor devices per user (user_store.h MfaDevice): TOTP
    // apps and WebAuthn security keys. Each user's OTP secret moves into a
    // device named "otp" with its last accepted step, and leaves the users
    // row (secure_delete overwrites it), so the secret is kept once.
    {12, R"sql(
CREATE TABLE mfa_devices (
  user_name      TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  name           TEXT NOT NULL,
  kind           TEXT NOT NULL CHECK (kind IN ('totp', 'webauthn')),
  created_at     INTEGER NOT NULL,
  last_used_at   INTEGER NOT NULL DEFAULT 0,
  totp_secret    BLOB,
  last_totp_step INTEGER NOT NULL DEFAULT -1,
  credential_id  BLOB UNIQUE,
  public_key     BLOB,
  cose_alg       INTEGER NOT NULL DEFAULT 0,
  sign_count     INTEGER NOT NULL DEFAULT 0 CHECK (sign_count >= 0),
  flags          INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user_name, name)
) STRICT;
CREATE INDEX mfa_devices_by_kind ON mfa_devices(user_name, kind, created_at);

INSERT INTO mfa_devices (user_name, name, kind, created_at, totp_secret, last_totp_step)
  SELECT name, 'otp', 'totp', created_at, totp_secret, last_totp_step FROM users
  WHERE totp_secret IS NOT NULL AND length(totp_secret) > 0;
UPDATE users SET totp_secret = NULL, last_totp_step = -1
  WHERE totp_secret IS NOT NULL OR last_totp_step != -1;
)sql"},
};

}  // namespace

const int kLatestSchemaVersion = kMigrations[std::size(kMigrations) - 1].version;

Status Configure(sqlite3* db, ConnectionRole role) {
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

  // WAL: readers never block the writer nor each other, and a commit is one
  // append. The mode is a property of the file, so readers (opened after the
  // writer set it) check it rather than set it.
  {
    Result<Stmt> stmt = Stmt::Prepare(
        db, role == ConnectionRole::kWriter ? "PRAGMA journal_mode=WAL" : "PRAGMA journal_mode");
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
  // A reader that tried to write would take the write lock beside the
  // writer connection; refuse it outright instead.
  if (role == ConnectionRole::kReader) GATE_RETURN_IF_ERROR(Exec(db, "PRAGMA query_only=ON"));
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

}  // namespace gate::ca::sqlite
