#include "ca-server/store/sqlite_vfs.h"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <utility>

namespace gate::ca::sqlite {
namespace {

// The errno of the last failure injected on this thread, for xGetLastError
// (SQLite asks right after the failing call, on the same thread).
thread_local int injected_errno = 0;

struct EnvFile {
  sqlite3_file base;   // must come first: SQLite sees an EnvFile as a sqlite3_file
  sqlite3_file* real;  // the default VFS's file, in the same allocation
  Env* env;
  const char* path;  // owned by SQLite for the file's lifetime
};

EnvVfs* Self(sqlite3_vfs* vfs) { return static_cast<EnvVfs*>(vfs->pAppData); }
sqlite3_vfs* Base(sqlite3_vfs* vfs) { return Self(vfs)->base(); }
EnvFile* AsEnvFile(sqlite3_file* file) { return reinterpret_cast<EnvFile*>(file); }
sqlite3_file* Real(sqlite3_file* file) { return AsEnvFile(file)->real; }

// 0, or the SQLite code an injected failure of op must return.
int Fault(sqlite3_file* file, Env::RawFileOp op, int io_code) {
  EnvFile* f = AsEnvFile(file);
  const int err = f->env->RawFileFault(op, f->path != nullptr ? f->path : "");
  if (err == 0) return SQLITE_OK;
  injected_errno = err;
  if (err == ENOSPC || err == EDQUOT) return SQLITE_FULL;
  return io_code;
}

int Close(sqlite3_file* file) {
  const int rc = Real(file)->pMethods->xClose(Real(file));
  file->pMethods = nullptr;
  return rc;
}
int Read(sqlite3_file* file, void* buf, int n, sqlite3_int64 offset) {
  return Real(file)->pMethods->xRead(Real(file), buf, n, offset);
}
int Write(sqlite3_file* file, const void* buf, int n, sqlite3_int64 offset) {
  if (int rc = Fault(file, Env::RawFileOp::kWrite, SQLITE_IOERR_WRITE); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xWrite(Real(file), buf, n, offset);
}
int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  if (int rc = Fault(file, Env::RawFileOp::kTruncate, SQLITE_IOERR_TRUNCATE); rc != SQLITE_OK) {
    return rc;
  }
  return Real(file)->pMethods->xTruncate(Real(file), size);
}
int Sync(sqlite3_file* file, int flags) {
  if (int rc = Fault(file, Env::RawFileOp::kSync, SQLITE_IOERR_FSYNC); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xSync(Real(file), flags);
}
int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  return Real(file)->pMethods->xFileSize(Real(file), size);
}
int Lock(sqlite3_file* file, int level) { return Real(file)->pMethods->xLock(Real(file), level); }
int Unlock(sqlite3_file* file, int level) {
  return Real(file)->pMethods->xUnlock(Real(file), level);
}
int CheckReservedLock(sqlite3_file* file, int* out) {
  return Real(file)->pMethods->xCheckReservedLock(Real(file), out);
}
int FileControl(sqlite3_file* file, int op, void* arg) {
  return Real(file)->pMethods->xFileControl(Real(file), op, arg);
}
int SectorSize(sqlite3_file* file) { return Real(file)->pMethods->xSectorSize(Real(file)); }
int DeviceCharacteristics(sqlite3_file* file) {
  return Real(file)->pMethods->xDeviceCharacteristics(Real(file));
}
int ShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  return Real(file)->pMethods->xShmMap(Real(file), region, size, extend, out);
}
int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  return Real(file)->pMethods->xShmLock(Real(file), offset, n, flags);
}
void ShmBarrier(sqlite3_file* file) { Real(file)->pMethods->xShmBarrier(Real(file)); }
int ShmUnmap(sqlite3_file* file, int delete_flag) {
  return Real(file)->pMethods->xShmUnmap(Real(file), delete_flag);
}
int Fetch(sqlite3_file* file, sqlite3_int64 offset, int n, void** out) {
  return Real(file)->pMethods->xFetch(Real(file), offset, n, out);
}
int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* p) {
  return Real(file)->pMethods->xUnfetch(Real(file), offset, p);
}

// Version 3, as the unix VFS's files are; a real file with an older
// version never reaches the Shm/Fetch entries (SQLite checks iVersion).
const sqlite3_io_methods kMethods = {
    3,
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    Lock,
    Unlock,
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
    ShmMap,
    ShmLock,
    ShmBarrier,
    ShmUnmap,
    Fetch,
    Unfetch,
};

int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  EnvFile* f = AsEnvFile(file);
  f->base.pMethods = nullptr;
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->env = Self(vfs)->env();
  f->path = name;
  const int rc = Base(vfs)->xOpen(Base(vfs), name, f->real, flags, out_flags);
  if (rc == SQLITE_OK && f->real->pMethods != nullptr) f->base.pMethods = &kMethods;
  return rc;
}

int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return Base(vfs)->xDelete(Base(vfs), name, sync_dir);
}
int Access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return Base(vfs)->xAccess(Base(vfs), name, flags, out);
}
int FullPathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return Base(vfs)->xFullPathname(Base(vfs), name, n, out);
}
void* DlOpen(sqlite3_vfs* vfs, const char* name) { return Base(vfs)->xDlOpen(Base(vfs), name); }
void DlError(sqlite3_vfs* vfs, int n, char* out) { Base(vfs)->xDlError(Base(vfs), n, out); }
void (*DlSym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return Base(vfs)->xDlSym(Base(vfs), handle, symbol);
}
void DlClose(sqlite3_vfs* vfs, void* handle) { Base(vfs)->xDlClose(Base(vfs), handle); }
int Randomness(sqlite3_vfs* vfs, int n, char* out) {
  return Base(vfs)->xRandomness(Base(vfs), n, out);
}
int Sleep(sqlite3_vfs* vfs, int micros) { return Base(vfs)->xSleep(Base(vfs), micros); }
int CurrentTime(sqlite3_vfs* vfs, double* out) { return Base(vfs)->xCurrentTime(Base(vfs), out); }
int GetLastError(sqlite3_vfs* vfs, int n, char* out) {
  if (injected_errno != 0) return injected_errno;
  return Base(vfs)->xGetLastError(Base(vfs), n, out);
}
int CurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return Base(vfs)->xCurrentTimeInt64(Base(vfs), out);
}

}  // namespace

Result<std::unique_ptr<EnvVfs>> EnvVfs::Register(Env* env) {
  sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
  if (base == nullptr) return Err(FailedPrecondition("sqlite: no default VFS"));
  std::unique_ptr<EnvVfs> out(new EnvVfs());
  char name[64];
  std::snprintf(name, sizeof name, "gate-env-%p", static_cast<void*>(out.get()));
  out->name_ = name;
  out->env_ = env;
  out->base_ = base;
  sqlite3_vfs& vfs = out->vfs_;
  vfs.iVersion = 2;
  vfs.szOsFile = static_cast<int>(sizeof(EnvFile)) + base->szOsFile;
  vfs.mxPathname = base->mxPathname;
  vfs.zName = out->name_.c_str();
  vfs.pAppData = out.get();
  vfs.xOpen = Open;
  vfs.xDelete = Delete;
  vfs.xAccess = Access;
  vfs.xFullPathname = FullPathname;
  vfs.xDlOpen = DlOpen;
  vfs.xDlError = DlError;
  vfs.xDlSym = DlSym;
  vfs.xDlClose = DlClose;
  vfs.xRandomness = Randomness;
  vfs.xSleep = Sleep;
  vfs.xCurrentTime = CurrentTime;
  vfs.xGetLastError = GetLastError;
  vfs.xCurrentTimeInt64 = CurrentTimeInt64;
  if (int rc = sqlite3_vfs_register(&vfs, 0); rc != SQLITE_OK) {
    return Err(Internal(std::string("sqlite: cannot register the VFS: ") + sqlite3_errstr(rc)));
  }
  return out;
}

int EnvVfs::TakeInjectedErrno() { return std::exchange(injected_errno, 0); }

EnvVfs::~EnvVfs() { static_cast<void>(sqlite3_vfs_unregister(&vfs_)); }

}  // namespace gate::ca::sqlite
