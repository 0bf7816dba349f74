// The node's policy cache as an indexed SQLite file (docs/node-protocol.md,
// "The cache on the node"). gate-node sync encodes a whole snapshot into it;
// every login reads only the rows of one user.
//
// Each row holds the JSON of one entry exactly as SnapshotToJson writes it,
// so readers reassemble a (small) snapshot document and parse it with the
// same strict SnapshotFromJson as gate-ca's reply: one validator, whatever
// the file says. The columns beside the JSON are only the lookup keys, and a
// row whose key disagrees with its JSON is corrupt.
//
// Readers never let SQLite open the path: the file is opened and checked
// with OpenSecureFile, mapped read-only, and handed to SQLite with
// sqlite3_deserialize. SQLite then reads exactly the bytes that passed the
// owner/mode check (no second open by name to race), touches only the pages
// a lookup needs, and has no journal or lock to look for.
#include <sqlite3.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "gate/cptr.h"
#include "gate/json.h"
#include "gate/node_cache.h"
#include "gate/secure_file.h"

namespace gate::node {
namespace {

using Db = CPtr<sqlite3, sqlite3_close_v2>;
using Stmt = CPtr<sqlite3_stmt, sqlite3_finalize>;

// 'GATE' in the header's application_id, and the layout's version in its
// user_version: a file that is not ours, or from another layout, is refused
// before any table is read.
constexpr std::uint32_t kApplicationId = 0x47415445;
constexpr std::uint32_t kFormatVersion = 1;

constexpr const char* kSchema = R"sql(
PRAGMA application_id = 1195463749;
PRAGMA user_version = 1;
CREATE TABLE header (json TEXT NOT NULL);
CREATE TABLE users (name TEXT NOT NULL, json TEXT NOT NULL);
CREATE UNIQUE INDEX users_by_name ON users (name);
CREATE TABLE roles (name TEXT NOT NULL, json TEXT NOT NULL);
CREATE UNIQUE INDEX roles_by_name ON roles (name);
CREATE TABLE locks (user TEXT NOT NULL, json TEXT NOT NULL);
CREATE INDEX locks_by_user ON locks (user);
CREATE TABLE revoked (serial INTEGER NOT NULL);
CREATE INDEX revoked_by_serial ON revoked (serial);
)sql";
static_assert(kApplicationId == 1195463749, "kSchema spells kApplicationId in decimal");

// What one row may make a login read and parse: far above any real entry
// (names are short, a user lists a handful of roles), far below harm.
constexpr int kMaxRowBytes = 1 << 20;
// A user with more locks than this is refused rather than read on.
constexpr int kMaxLocksPerUser = 1000;

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return DataLoss(std::string(what) + ": " + detail);
}

Result<Stmt> Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  Stmt stmt(raw);
  if (rc != SQLITE_OK) return Err(SqliteError(db, rc, sql));
  return stmt;
}

// A fresh in-memory connection with the hardening a file we did not write
// in this process deserves: no triggers or views that call functions, no
// writes to the schema, a cap on every value read.
Result<Db> NewConnection() {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(
      ":memory:", &raw,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_MEMORY,
      nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) return Err(Internal("sqlite: " + std::string(sqlite3_errstr(rc))));
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, nullptr);
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_ENABLE_VIEW, 0, nullptr);
  sqlite3_limit(db.get(), SQLITE_LIMIT_LENGTH, kMaxRowBytes);
  return db;
}

// The cache file, checked and mapped; unmapped when dropped.
class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(data_, size_);
  }

  static Result<std::unique_ptr<MappedFile>> Open(const CacheLocation& cache) {
    const std::string path = cache.PolicyPath();
    auto fd = OpenSecureFile(path, CacheFilePolicy(cache.owner, kMaxPolicySize));
    if (!fd) {
      if (fd.error().code() == Code::kNotFound &&
          ::access(cache.LegacyPolicyPath().c_str(), F_OK) == 0) {
        return Err(FailedPrecondition(cache.LegacyPolicyPath() +
                                      " is the cache format of an older gate-node and is not "
                                      "read any more; run `gate-node sync` to write " +
                                      path));
      }
      return Err(fd.error());
    }
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0) {
      return Err(Unavailable("cannot stat " + path + ": " + std::strerror(errno)));
    }
    auto file = std::make_unique<MappedFile>();
    file->size_ = static_cast<std::size_t>(st.st_size);
    // An empty file has no header; SQLite would take it for an empty
    // database, which is not a cache sync wrote.
    if (file->size_ == 0) return Err(DataLoss(path + " is empty"));
    void* data = ::mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE, fd->get(), 0);
    if (data == MAP_FAILED) {
      return Err(Unavailable("cannot map " + path + ": " + std::strerror(errno)));
    }
    file->data_ = data;
    return file;
  }

  unsigned char* data() const { return static_cast<unsigned char*>(data_); }
  std::size_t size() const { return size_; }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

// The big-endian 32-bit field at offset of the SQLite file header
// (https://www.sqlite.org/fileformat.html: 60 user_version, 68
// application_id). data holds at least the 100-byte header.
std::uint32_t HeaderField(const unsigned char* data, std::size_t offset) {
  return (std::uint32_t{data[offset]} << 24) | (std::uint32_t{data[offset + 1]} << 16) |
         (std::uint32_t{data[offset + 2]} << 8) | data[offset + 3];
}

// A file cut short (or grown) since sync wrote it is refused whole, before
// SQLite reads a page: the header names its page size and count, and sync
// writes exactly that many bytes.
Status CheckWholeFile(const std::string& path, const unsigned char* data, std::size_t size) {
  static constexpr char kMagic[] = "SQLite format 3";  // with its NUL: 16 bytes
  constexpr std::size_t kHeaderSize = 100;
  if (size < kHeaderSize || std::memcmp(data, kMagic, sizeof(kMagic)) != 0) {
    return DataLoss(path + " is not a gate policy cache (no SQLite header)");
  }
  std::size_t page_size = (std::size_t{data[16]} << 8) | data[17];
  if (page_size == 1) page_size = 65536;
  const std::size_t pages = HeaderField(data, 28);
  if (page_size < 512 || (page_size & (page_size - 1)) != 0 || pages == 0 ||
      pages * page_size != size) {
    return DataLoss(path + " is truncated or damaged: its header describes " +
                    std::to_string(pages) + " pages of " + std::to_string(page_size) +
                    " bytes, the file has " + std::to_string(size) + " bytes");
  }
  return Status::Ok();
}

// An open cache: the mapping must outlive the connection reading it.
struct OpenCache {
  std::unique_ptr<MappedFile> file;
  Db db;
  std::string path;
  Json::Value doc;  // the header: everything but users, roles, locks, serials

  Status Error(const Status& s) const { return DataLoss(path + ": " + s.message()); }
};

Result<OpenCache> Open(const CacheLocation& cache) {
  OpenCache c;
  c.path = cache.PolicyPath();
  auto file = MappedFile::Open(cache);
  if (!file) return Err(file.error());
  c.file = std::move(*file);
  GATE_RETURN_IF_ERROR(CheckWholeFile(c.path, c.file->data(), c.file->size()));
  auto db = NewConnection();
  if (!db) return Err(db.error());
  c.db = std::move(*db);
  const int rc = sqlite3_deserialize(
      c.db.get(), "main", c.file->data(), static_cast<sqlite3_int64>(c.file->size()),
      static_cast<sqlite3_int64>(c.file->size()), SQLITE_DESERIALIZE_READONLY);
  if (rc != SQLITE_OK) return Err(c.Error(SqliteError(c.db.get(), rc, "open")));

  // Both live in the header CheckWholeFile vetted; reading them there saves
  // the login two statements.
  const std::uint32_t app = HeaderField(c.file->data(), 68);
  if (app != kApplicationId) return Err(DataLoss(c.path + " is not a gate policy cache"));
  const std::uint32_t version = HeaderField(c.file->data(), 60);
  if (version != kFormatVersion) {
    return Err(DataLoss(c.path + ": unsupported cache format " + std::to_string(version) +
                        " (this build reads " + std::to_string(kFormatVersion) +
                        "); run `gate-node sync` to rewrite it"));
  }

  auto stmt = Prepare(c.db.get(), "SELECT json FROM header LIMIT 2");
  if (!stmt) return Err(c.Error(stmt.error()));
  int rows = 0;
  int step = SQLITE_ROW;
  while ((step = sqlite3_step(stmt->get())) == SQLITE_ROW) {
    if (++rows > 1) return Err(DataLoss(c.path + ": more than one header row"));
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt->get(), 0));
    if (text == nullptr) return Err(DataLoss(c.path + ": header is not text"));
    auto doc = json::Parse(text, kMaxRowBytes);
    if (!doc) return Err(c.Error(doc.error().WithContext("header")));
    c.doc = std::move(*doc);
  }
  if (step != SQLITE_DONE) return Err(c.Error(SqliteError(c.db.get(), step, "header")));
  if (rows == 0) return Err(DataLoss(c.path + ": no header row"));
  if (!c.doc.isObject()) return Err(DataLoss(c.path + ": header is not a JSON object"));
  for (const char* list : {"users", "roles", "locks", "revoked_serials"}) {
    c.doc[list] = Json::Value(Json::arrayValue);
  }
  return c;
}

// Appends to doc[list] the JSON of each row stmt yields (column 0: the
// key, column 1: the JSON), after checking that the JSON's key_field says
// the same as the key column. At most max_rows rows (0: no limit).
Status AppendRows(const OpenCache& c, sqlite3_stmt* stmt, const char* list, const char* key_field,
                  Json::Value& doc, int max_rows = 0) {
  int rows = 0;
  int step = SQLITE_ROW;
  while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
    if (max_rows > 0 && ++rows > max_rows) {
      return DataLoss(c.path + ": more than " + std::to_string(max_rows) + " " + list +
                      " rows for one key");
    }
    const auto* key = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1));
    if (key == nullptr || text == nullptr) {
      return DataLoss(c.path + ": a " + std::string(list) + " row is not text");
    }
    auto entry = json::Parse(text, kMaxRowBytes);
    if (!entry) return c.Error(entry.error().WithContext(list));
    if (!entry->isObject() || !(*entry)[key_field].isString() ||
        (*entry)[key_field].asString() != key) {
      return DataLoss(c.path + ": the " + list + " row for '" + key + "' holds another entry");
    }
    doc[list].append(std::move(*entry));
  }
  if (step != SQLITE_DONE) return c.Error(SqliteError(c.db.get(), step, list));
  return Status::Ok();
}

Result<policy::Snapshot> Finish(const OpenCache& c, const Json::Value& doc) {
  auto snapshot = policy::SnapshotFromJson(doc);
  if (!snapshot) return Err(c.Error(snapshot.error()));
  return snapshot;
}

// Binds the uint64 serial as SQLite's int64 with the same bits, which is how
// EncodePolicyCache stores it.
sqlite3_int64 SerialKey(std::uint64_t serial) {
  sqlite3_int64 key = 0;
  static_assert(sizeof(key) == sizeof(serial));
  std::memcpy(&key, &serial, sizeof(key));
  return key;
}

Status Exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string detail = message != nullptr ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return Internal("policy cache: " + detail);
}

Status InsertRows(sqlite3* db, const char* sql, const Json::Value& entries, const char* key) {
  auto stmt = Prepare(db, sql);
  if (!stmt) return stmt.error();
  for (const Json::Value& entry : entries) {
    const std::string name = entry[key].asString();
    const std::string text = json::Write(entry);
    if (text.size() > static_cast<std::size_t>(kMaxRowBytes)) {
      return InvalidArgument("policy cache: the entry for '" + name + "' is too large");
    }
    sqlite3_reset(stmt->get());
    sqlite3_bind_text(stmt->get(), 1, name.data(), static_cast<int>(name.size()), SQLITE_STATIC);
    sqlite3_bind_text(stmt->get(), 2, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
    const int rc = sqlite3_step(stmt->get());
    if (rc != SQLITE_DONE) return Internal("policy cache: " + std::string(sqlite3_errmsg(db)));
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> EncodePolicyCache(const policy::Snapshot& snapshot) {
  Json::Value doc = policy::SnapshotToJson(snapshot);
  Json::Value header = doc;
  for (const char* list : {"users", "roles", "locks", "revoked_serials"}) {
    header[list] = Json::Value(Json::arrayValue);
  }
  auto db = NewConnection();
  if (!db) return Err(db.error());
  GATE_RETURN_IF_ERROR(Exec(db->get(), "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF"));
  GATE_RETURN_IF_ERROR(Exec(db->get(), kSchema));
  GATE_RETURN_IF_ERROR(Exec(db->get(), "BEGIN"));
  {
    auto stmt = Prepare(db->get(), "INSERT INTO header (json) VALUES (?1)");
    if (!stmt) return Err(stmt.error());
    const std::string text = json::Write(header);
    sqlite3_bind_text(stmt->get(), 1, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
    if (sqlite3_step(stmt->get()) != SQLITE_DONE) {
      return Err(Internal("policy cache: " + std::string(sqlite3_errmsg(db->get()))));
    }
  }
  // A duplicate name fails the unique index: SnapshotFromJson refuses
  // those, so it cannot happen for a snapshot that was parsed.
  GATE_RETURN_IF_ERROR(InsertRows(db->get(), "INSERT INTO users (name, json) VALUES (?1, ?2)",
                                  doc["users"], "name"));
  GATE_RETURN_IF_ERROR(InsertRows(db->get(), "INSERT INTO roles (name, json) VALUES (?1, ?2)",
                                  doc["roles"], "name"));
  GATE_RETURN_IF_ERROR(InsertRows(db->get(), "INSERT INTO locks (user, json) VALUES (?1, ?2)",
                                  doc["locks"], "user"));
  {
    auto stmt = Prepare(db->get(), "INSERT INTO revoked (serial) VALUES (?1)");
    if (!stmt) return Err(stmt.error());
    for (std::uint64_t serial : snapshot.revoked_serials) {
      sqlite3_reset(stmt->get());
      sqlite3_bind_int64(stmt->get(), 1, SerialKey(serial));
      if (sqlite3_step(stmt->get()) != SQLITE_DONE) {
        return Err(Internal("policy cache: " + std::string(sqlite3_errmsg(db->get()))));
      }
    }
  }
  GATE_RETURN_IF_ERROR(Exec(db->get(), "COMMIT"));
  sqlite3_int64 size = 0;
  unsigned char* bytes = sqlite3_serialize(db->get(), "main", &size, 0);
  if (bytes == nullptr) return Err(Internal("policy cache: cannot serialize the database"));
  std::string out(reinterpret_cast<const char*>(bytes), static_cast<std::size_t>(size));
  sqlite3_free(bytes);
  if (out.size() > kMaxPolicySize) {
    return Err(InvalidArgument("policy cache: " + std::to_string(out.size()) +
                               " bytes is over the limit of " + std::to_string(kMaxPolicySize)));
  }
  return out;
}

Result<policy::Snapshot> ReadSnapshot(const CacheLocation& cache) {
  auto c = Open(cache);
  if (!c) return Err(c.error());
  Json::Value doc = c->doc;
  struct List {
    const char* sql;
    const char* list;
    const char* key;
  };
  for (const List& l : {List{"SELECT name, json FROM users ORDER BY rowid", "users", "name"},
                        List{"SELECT name, json FROM roles ORDER BY rowid", "roles", "name"},
                        List{"SELECT user, json FROM locks ORDER BY rowid", "locks", "user"}}) {
    auto stmt = Prepare(c->db.get(), l.sql);
    if (!stmt) return Err(c->Error(stmt.error()));
    GATE_RETURN_IF_ERROR(AppendRows(*c, stmt->get(), l.list, l.key, doc));
  }
  auto stmt = Prepare(c->db.get(), "SELECT serial FROM revoked ORDER BY rowid");
  if (!stmt) return Err(c->Error(stmt.error()));
  int step = SQLITE_ROW;
  while ((step = sqlite3_step(stmt->get())) == SQLITE_ROW) {
    if (sqlite3_column_type(stmt->get(), 0) != SQLITE_INTEGER) {
      return Err(DataLoss(c->path + ": a revoked serial is not an integer"));
    }
    std::uint64_t serial = 0;
    const sqlite3_int64 key = sqlite3_column_int64(stmt->get(), 0);
    std::memcpy(&serial, &key, sizeof(serial));
    doc["revoked_serials"].append(std::to_string(serial));
  }
  if (step != SQLITE_DONE) return Err(c->Error(SqliteError(c->db.get(), step, "revoked")));
  return Finish(*c, doc);
}

Result<policy::Snapshot> ReadLoginSnapshot(const CacheLocation& cache, std::string_view user,
                                           std::uint64_t serial) {
  auto c = Open(cache);
  if (!c) return Err(c.error());
  Json::Value doc = c->doc;
  sqlite3* db = c->db.get();
  if (user.size() > static_cast<std::size_t>(kMaxRowBytes)) {
    return Err(InvalidArgument("user name too long"));
  }
  const int user_size = static_cast<int>(user.size());

  auto users = Prepare(db, "SELECT name, json FROM users WHERE name = ?1");
  if (!users) return Err(c->Error(users.error()));
  sqlite3_bind_text(users->get(), 1, user.data(), user_size, SQLITE_STATIC);
  GATE_RETURN_IF_ERROR(AppendRows(*c, users->get(), "users", "name", doc, 1));

  if (!doc["users"].empty()) {
    auto roles = Prepare(db, "SELECT name, json FROM roles WHERE name = ?1");
    if (!roles) return Err(c->Error(roles.error()));
    const Json::Value& names = doc["users"][0]["roles"];
    if (!names.isArray()) return Finish(*c, doc);  // SnapshotFromJson says what is wrong
    Json::Value wanted(Json::arrayValue);
    for (const Json::Value& name : names) {
      if (!name.isString()) return Finish(*c, doc);
      const std::string text = name.asString();
      // A role listed twice is read once: the snapshot must not list it twice.
      bool seen = false;
      for (const Json::Value& done : wanted) seen = seen || done.asString() == text;
      if (seen) continue;
      wanted.append(text);
      sqlite3_reset(roles->get());
      sqlite3_bind_text(roles->get(), 1, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
      GATE_RETURN_IF_ERROR(AppendRows(*c, roles->get(), "roles", "name", doc, 1));
    }
  }

  auto locks = Prepare(db, "SELECT user, json FROM locks WHERE user = ?1 ORDER BY rowid");
  if (!locks) return Err(c->Error(locks.error()));
  sqlite3_bind_text(locks->get(), 1, user.data(), user_size, SQLITE_STATIC);
  GATE_RETURN_IF_ERROR(AppendRows(*c, locks->get(), "locks", "user", doc, kMaxLocksPerUser));

  auto revoked = Prepare(db, "SELECT 1 FROM revoked WHERE serial = ?1 LIMIT 1");
  if (!revoked) return Err(c->Error(revoked.error()));
  sqlite3_bind_int64(revoked->get(), 1, SerialKey(serial));
  const int step = sqlite3_step(revoked->get());
  if (step == SQLITE_ROW) {
    doc["revoked_serials"].append(std::to_string(serial));
  } else if (step != SQLITE_DONE) {
    return Err(c->Error(SqliteError(db, step, "revoked")));
  }
  return Finish(*c, doc);
}

}  // namespace gate::node
