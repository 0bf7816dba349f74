// Opening the SQLite Store's file: vetting it before SQLite touches it,
// then the writer and reader connections.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ca-server/store/sqlite_schema.h"
#include "ca-server/store/sqlite_stmt.h"
#include "ca-server/store/sqlite_store.h"
#include "ca-server/store/sqlite_vfs.h"
#include "ca-server/store/store.h"
#include "gate/unique_fd.h"

namespace gate::ca {
namespace {

using sqlite::ConnectionPool;
using sqlite::ConnectionRole;
using sqlite::Db;
using sqlite::SqliteError;

// Read connections beside the writer: enough that node syncs, session
// lists and audit queries running together do not queue behind each other.
constexpr int kReaderConnections = 4;

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

// Opens one connection to the file vetted as file_stat. No
// SQLITE_OPEN_CREATE: SQLite must open the file vetted above, not make one
// of its own. NOMUTEX because the pool hands a connection to one thread at a
// time.
Result<Db> OpenConnection(const std::string& path, const struct stat& file_stat,
                          const sqlite::EnvVfs& vfs) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX,
                                 vfs.name());
  Db db(raw);
  if (rc != SQLITE_OK) return Err(SqliteError(db.get(), rc, "open").WithContext(path));
  // If the path was swapped for another file between our open() and
  // SQLite's, the checks above were about the wrong file.
  struct stat path_stat {};
  if (::lstat(path.c_str(), &path_stat) != 0 || path_stat.st_dev != file_stat.st_dev ||
      path_stat.st_ino != file_stat.st_ino) {
    return Err(PermissionDenied(path + " was replaced while being opened; refusing it"));
  }
  return db;
}

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path) {
  return OpenSqliteStore(path, Env::Default());
}

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, Env* env) {
  if (path.empty()) return Err(InvalidArgument("database path must not be empty"));
  Result<std::unique_ptr<sqlite::EnvVfs>> vfs = sqlite::EnvVfs::Register(env);
  if (!vfs) return Err(vfs.error());

  struct stat file_stat {};
  Result<UniqueFd> fd = OpenDatabaseFile(path, &file_stat);
  if (!fd) return Err(fd.error());
  GATE_RETURN_IF_ERROR(CheckSidecar(path + "-wal"));
  GATE_RETURN_IF_ERROR(CheckSidecar(path + "-shm"));

  // Every connection is opened and checked while fd is still open, so the
  // inode compared against cannot be freed and reused meanwhile.
  Result<Db> writer = OpenConnection(path, file_stat, **vfs);
  if (!writer) return Err(writer.error());
  std::vector<Db> readers;
  for (int i = 0; i < kReaderConnections; ++i) {
    Result<Db> reader = OpenConnection(path, file_stat, **vfs);
    if (!reader) return Err(reader.error());
    readers.push_back(*std::move(reader));
  }
  // Closed before SQLite takes any lock: closing any descriptor of a file
  // drops all of this process's POSIX locks on it, SQLite's included.
  fd->Reset();
  // Seeds SQLite's generator (WAL salts) from the kernel now: SQLite
  // reseeds after a fork at the first use, when gate-ca's signer can no
  // longer open /dev/urandom (it would fall back to the time and pid).
  unsigned char seed_now = 0;
  sqlite3_randomness(1, &seed_now);

  if (Status s = sqlite::Configure(writer->get(), ConnectionRole::kWriter); !s.ok()) {
    return Err(s.WithContext(path));
  }
  if (Status s = sqlite::Migrate(writer->get()); !s.ok()) return Err(s.WithContext(path));
  for (Db& reader : readers) {
    if (Status s = sqlite::Configure(reader.get(), ConnectionRole::kReader); !s.ok()) {
      return Err(s.WithContext(path));
    }
  }
  auto pool =
      std::make_shared<ConnectionPool>(*std::move(vfs), *std::move(writer), std::move(readers));
  return std::unique_ptr<Store>(std::make_unique<sqlite::SqliteStore>(std::move(pool)));
}

}  // namespace gate::ca
