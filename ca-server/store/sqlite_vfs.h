// EnvVfs: a SQLite VFS that passes every call to SQLite's default VFS, but
// asks the Env (gate/env.h, Env::RawFileFault) before each write, truncate
// and fsync, so tests can make the store's own file I/O fail with ENOSPC,
// EIO or a failed fsync through a FaultEnv. With Env::Default() it changes
// nothing. Internal to ca-server/store/.
//
// An injected failure reaches SQLite as the system call's would: ENOSPC or
// EDQUOT as SQLITE_FULL, anything else as SQLITE_IOERR_WRITE /
// _TRUNCATE / _FSYNC, with the errno kept for sqlite3_system_errno, so the
// store's error names the cause. SQLite then rolls the transaction back.
//
// Registered under a name of its own on construction and unregistered on
// destruction, which must come after every connection opened through it is
// closed. Thread-safe as SQLite's VFS layer is.
#ifndef GATE_CA_STORE_SQLITE_VFS_H_
#define GATE_CA_STORE_SQLITE_VFS_H_

#include <sqlite3.h>

#include <memory>
#include <string>

#include "gate/env.h"
#include "gate/status.h"

namespace gate::ca::sqlite {

class EnvVfs {
 public:
  // FailedPrecondition if SQLite has no default VFS.
  static Result<std::unique_ptr<EnvVfs>> Register(Env* env);
  ~EnvVfs();
  EnvVfs(const EnvVfs&) = delete;
  EnvVfs& operator=(const EnvVfs&) = delete;

  // The errno of the last failure injected on this thread since the last
  // call (0 if none), and forgets it: SQLite passes an errno on for I/O
  // errors only, so SqliteError asks here for full-disk ones too.
  static int TakeInjectedErrno();

  // The name to pass to sqlite3_open_v2.
  const char* name() const { return name_.c_str(); }
  // For the VFS callbacks.
  sqlite3_vfs* base() const { return base_; }
  Env* env() const { return env_; }

 private:
  EnvVfs() = default;

  std::string name_;
  sqlite3_vfs* base_ = nullptr;  // SQLite's default VFS
  Env* env_ = nullptr;
  sqlite3_vfs vfs_{};  // pAppData points back at this EnvVfs
};

}  // namespace gate::ca::sqlite

#endif  // GATE_CA_STORE_SQLITE_VFS_H_
