// The SQLite backend of the Store conformance suite (store_conformance.h):
// a fresh database file in a temporary directory per test.
#ifndef GATE_TESTS_UNIT_CA_SERVER_STORE_SQLITE_BACKEND_H_
#define GATE_TESTS_UNIT_CA_SERVER_STORE_SQLITE_BACKEND_H_

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "ca-server/store/store.h"

namespace gate::ca {

// Runs sql on the database file directly, outside the store.
inline void RawExec(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
  const std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

class SqliteBackend {
 public:
  SqliteBackend() {
    std::string dir_template =
        (std::filesystem::temp_directory_path() / "gate-store-XXXXXX").string();
    if (::mkdtemp(dir_template.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    dir_ = dir_template;
    path_ = (dir_ / "gate.db").string();
  }
  ~SqliteBackend() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  SqliteBackend(const SqliteBackend&) = delete;
  SqliteBackend& operator=(const SqliteBackend&) = delete;

  Result<std::unique_ptr<Store>> Open() { return OpenSqliteStore(path_); }

  // Schema version 4 as gate-ca wrote it (migrations 1 to 4, verbatim), and
  // the data store_conformance.h's kPrevious* describe.
  void WritePreviousVersion() {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::error_code ec;
      std::filesystem::remove(path_ + suffix, ec);
    }
    const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ::close(fd);
    ASSERT_NO_FATAL_FAILURE(RawExec(path_, kVersion4Schema));
    ASSERT_NO_FATAL_FAILURE(RawExec(path_, kVersion4Data));
  }

  const std::string& path() const { return path_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  static constexpr char kVersion4Schema[] = R"sql(
PRAGMA journal_mode=WAL;
CREATE TABLE schema_version (
 id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL) STRICT;
INSERT INTO schema_version (id, version) VALUES (1, 4);

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

ALTER TABLE roles ADD COLUMN
  record_sessions INTEGER NOT NULL DEFAULT 0 CHECK (record_sessions IN (0, 1));
ALTER TABLE roles ADD COLUMN
  join_sessions   INTEGER NOT NULL DEFAULT 0 CHECK (join_sessions IN (0, 1));

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
)sql";

  static constexpr char kVersion4Data[] = R"sql(
INSERT INTO users (name, created_at, password_hash, totp_secret, failed_attempts, locked_until,
                   last_totp_step)
  VALUES ('olduser', 1000, '$argon2id$v=19$m=65536,t=3,p=1$b2xk$b2xk', CAST('old-secret' AS BLOB),
          2, 0, 42);
INSERT INTO user_logins (user_name, position, login) VALUES ('olduser', 0, 'ubuntu'),
                                                            ('olduser', 1, 'root');
INSERT INTO user_roles (user_name, position, role) VALUES ('olduser', 0, 'oldrole');
INSERT INTO roles (name, max_ttl, permit_pty, permit_port_forwarding, permit_agent_forwarding,
                   record_sessions, join_sessions) VALUES ('oldrole', 3600, 1, 0, 1, 1, 0);
INSERT INTO role_logins (role_name, position, login) VALUES ('oldrole', 0, 'deploy');
INSERT INTO role_node_labels (role_name, label_name, label_value) VALUES ('oldrole', 'env', 'prod');
INSERT INTO locks (user_name, expires_at, message, created_at) VALUES ('olduser', 0, 'old lock', 5);
INSERT INTO nodes (host_uuid, hostname, host_key, secret_hash, joined_at, last_sync, recorder_key)
  VALUES ('6c8f0c1e-9b2d-4c3e-8f10-0123456789ab', 'old-node', 'ssh-ed25519 AAAAhost',
          'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 10, 20,
          'ssh-ed25519 AAAAold');
INSERT INTO node_labels (host_uuid, label_name, label_value)
  VALUES ('6c8f0c1e-9b2d-4c3e-8f10-0123456789ab', 'env', 'prod');
INSERT INTO sessions (id, user_name, login, host_uuid, node_name, mode, started_at, ended_at, live,
                      size, created_at, completed_at, sha256, verified, verify_detail, exit_data)
  VALUES ('7d9f0c1e-9b2d-4c3e-8f10-0123456789ab', 'olduser', 'root',
          '6c8f0c1e-9b2d-4c3e-8f10-0123456789ab', 'old-node', 'interactive', 100, 200, 0, 10,
          101, 201, 'cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc', 1,
          'complete', '');
INSERT INTO certificates (serial, user_name, key_id, valid_after, valid_before, issued_at)
  VALUES (7, 'olduser', 'olduser', 0, 9000000000, 1);
INSERT INTO revocations (serial, user_name, revoked_at, valid_before)
  VALUES (7, 'olduser', 2, 9000000000);
UPDATE revocation_version SET version = 1 WHERE id = 1;
INSERT INTO audit (time, event, user_name, source, success, detail)
  VALUES (3, 'user.create', 'olduser', 'admin', 1, '');
)sql";

  std::filesystem::path dir_;
  std::string path_;  // dir_/gate.db
};

// A fresh SQLite store in store_ for each test, for tests of what is built
// on Store (services, the API).
class SqliteStoreFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<Store>> store = backend_.Open();
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = *std::move(store);
  }
  void TearDown() override { store_.reset(); }

  SqliteBackend backend_;
  std::unique_ptr<Store> store_;
};

}  // namespace gate::ca

#endif  // GATE_TESTS_UNIT_CA_SERVER_STORE_SQLITE_BACKEND_H_
