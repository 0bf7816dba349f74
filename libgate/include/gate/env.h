// Env: the operating-system access that tests need to fault (LevelDB's Env).
//
// Code that must survive a full disk, an I/O error or a failed fsync takes an
// Env* instead of calling open/write/fsync/rename/time directly; production
// passes Env::Default() (plain POSIX), tests pass a FaultEnv
// (gate/fault_env.h) that fails the Nth write, fsync or rename with ENOSPC or
// EIO and drops the data a crash would lose.
//
// Files are reached either by path or, where a directory must not be swapped
// under us between calls, through a held-open Directory (openat and friends).
// Every open refuses a symbolic link in the last component (O_NOFOLLOW) and
// sets O_CLOEXEC. Errors are Status values that name the path and the system
// error ("cannot write /var/lib/gate/x: No space left on device"), with
// ResourceExhausted for ENOSPC/EDQUOT, NotFound for ENOENT, AlreadyExists
// for EEXIST, PermissionDenied for EACCES/EPERM/ELOOP, Unavailable otherwise.
//
// Thread safety: Env::Default() and the objects it returns may be used from
// any thread; one WritableFile/ReadableFile/Directory object is used by one
// thread at a time.
#ifndef GATE_ENV_H_
#define GATE_ENV_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gate/status.h"

namespace gate {

// What lstat/fstat tell about a file.
struct FileInfo {
  enum class Type { kRegular, kDirectory, kSymlink, kOther };
  Type type = Type::kOther;
  uid_t uid = 0;
  gid_t gid = 0;
  mode_t mode = 0;  // permission bits only (& 07777)
  std::uint64_t size = 0;
  std::uint64_t links = 0;  // hard links (st_nlink)
  // Which file this is (st_dev, st_ino): the same pair means the same file,
  // so a name that was swapped for another file since it was opened is
  // noticed.
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::int64_t mtime_unix_seconds = 0;  // last data change
  bool SameFileAs(const FileInfo& other) const {
    return device == other.device && inode == other.inode;
  }
};

// How NewWritableFile opens: always write-only, never following a symlink.
// perms apply to a file the call creates; with kCreateExclusive (the only
// mode where the call surely created it) they are set exactly, whatever the
// umask (a setuid program inherits its caller's), otherwise the umask may
// narrow them.
enum class WriteMode {
  kCreateExclusive,   // O_CREAT|O_EXCL: AlreadyExists if the file exists
  kCreateOrTruncate,  // O_CREAT|O_TRUNC
  kCreateOrAppend,    // O_CREAT|O_APPEND
  kAppendExisting,    // O_APPEND: NotFound if the file is missing
};

// An open file being written. Append writes all of data or fails; after a
// failed Append the file may hold a prefix of data (the caller truncates back
// if that matters). Data is durable only once Sync returns OK.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  // ftruncate to size.
  virtual Status Truncate(std::uint64_t size) = 0;
  // fsync: the file's data and metadata reach the disk, or an error.
  virtual Status Sync() = 0;
  // close(2), which can report a deferred write error; the destructor closes
  // too but cannot report.
  virtual Status Close() = 0;
  virtual Result<FileInfo> Stat() const = 0;
  // fchown to uid:gid, then fchmod to perms (in that order: chown clears the
  // set-id bits). For a file written for another user: called before any
  // data is appended, the bytes never sit in a file someone else could open
  // (WriteFileAtomicIn with an owner does so).
  virtual Status SetOwnerAndMode(uid_t uid, gid_t gid, mode_t perms) = 0;
  virtual const std::string& path() const = 0;
  // The descriptor, for flock and the like; owned by this object (-1 after
  // Close).
  virtual int fd() const = 0;
};

// An open file being read.
class ReadableFile {
 public:
  virtual ~ReadableFile() = default;
  // At most n bytes from offset (fewer at the end, none past it).
  virtual Result<std::string> ReadAt(std::uint64_t offset, std::size_t n) const = 0;
  virtual Result<FileInfo> Stat() const = 0;
  virtual const std::string& path() const = 0;
  // The descriptor, for mmap, flock and the like; owned by this object.
  virtual int fd() const = 0;
};

// A directory held open: names are resolved relative to it (openat), so a
// directory renamed or replaced after OpenDirectory is never written.
// Names are single path components.
class Directory {
 public:
  virtual ~Directory() = default;
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& name,
                                                                WriteMode mode,
                                                                mode_t perms = 0600) = 0;
  virtual Result<std::unique_ptr<ReadableFile>> NewReadableFile(const std::string& name) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // unlink; NotFound if missing.
  virtual Status Remove(const std::string& name) = 0;
  // fsync of the directory, which makes creates, renames and removes durable.
  virtual Status Sync() = 0;
  // lstat of an entry.
  virtual Result<FileInfo> Stat(const std::string& name) const = 0;
  // fstat of the directory itself.
  virtual Result<FileInfo> StatSelf() const = 0;
  // The entry names, without "." and "..", in no particular order.
  virtual Result<std::vector<std::string>> List() const = 0;
  virtual const std::string& path() const = 0;
  // The directory's descriptor, for checks the Env does not make itself
  // (CheckSafeDirFd, gate/secure_file.h); owned by this object.
  virtual int fd() const = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // The POSIX implementation; never deleted, safe from any thread.
  static Env* Default();

  // Clocks. Wall time is what certificates, audit rows and OTP windows use;
  // monotonic time is for timeouts and rates (it never jumps back).
  virtual std::int64_t NowUnixSeconds() = 0;
  virtual std::int64_t NowUnixMicros() = 0;
  virtual std::int64_t MonotonicNanos() = 0;

  // Files by path.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                                WriteMode mode,
                                                                mode_t perms = 0600) = 0;
  virtual Result<std::unique_ptr<ReadableFile>> NewReadableFile(const std::string& path) = 0;
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // mkdir with exactly perms (not filtered by umask); AlreadyExists if it exists.
  virtual Status CreateDir(const std::string& path, mode_t perms) = 0;
  // fsync of a directory by path.
  virtual Status SyncDir(const std::string& path) = 0;
  // lstat (a symlink is reported as one, not followed).
  virtual Result<FileInfo> Stat(const std::string& path) = 0;
  // Opens a directory (O_DIRECTORY|O_NOFOLLOW) to work inside it.
  virtual Result<std::unique_ptr<Directory>> OpenDirectory(const std::string& path) = 0;

  // For storage engines that do their own file I/O (gate-ca's SQLite store,
  // through its VFS): asked before each write, truncate and fsync of path;
  // returns 0 to go ahead, or the errno that operation must fail with. The
  // POSIX Env always returns 0; FaultEnv applies its kWrite, kTruncate and
  // kSync rules.
  enum class RawFileOp { kWrite, kTruncate, kSync };
  virtual int RawFileFault(RawFileOp /*op*/, const std::string& /*path*/) { return 0; }
};

// The Env's one errno -> Status mapping (above): "cannot <what> <path>:
// <strerror>", plus a hint to free space for ENOSPC/EDQUOT.
Status ErrnoStatus(std::string_view what, std::string_view path, int err);

// Who a file written for another user belongs to.
struct FileOwner {
  uid_t uid = 0;
  gid_t gid = 0;
};

// Writes data to path in dir atomically: a temp file created O_EXCL with
// perms (exactly; with an owner: 0600, then SetOwnerAndMode(owner, perms)
// before any data), Append, Sync, Close, Rename over name, Sync the
// directory. On any failure the temp file is removed and the old file (if
// any) is untouched and complete; the error names the file and the system
// error. Only a failed directory sync comes after the rename: the new file
// is then in place but may not survive a crash.
Status WriteFileAtomicIn(Directory& dir, const std::string& name, std::string_view data,
                         mode_t perms, const std::optional<FileOwner>& owner = std::nullopt);

// Appends all of data to file; if the write fails part way, truncates the file
// back to its size before the call, so a failure never leaves half of data.
Status AppendAllOrNothing(WritableFile& file, std::string_view data);

}  // namespace gate

#endif  // GATE_ENV_H_
