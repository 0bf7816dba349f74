// Env::Default(): plain POSIX calls, every path opened O_NOFOLLOW|O_CLOEXEC.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <utility>

#include "gate/env.h"
#include "gate/unique_fd.h"

namespace gate {
namespace {

FileInfo ToFileInfo(const struct stat& st) {
  FileInfo info;
  if (S_ISREG(st.st_mode)) {
    info.type = FileInfo::Type::kRegular;
  } else if (S_ISDIR(st.st_mode)) {
    info.type = FileInfo::Type::kDirectory;
  } else if (S_ISLNK(st.st_mode)) {
    info.type = FileInfo::Type::kSymlink;
  }
  info.uid = st.st_uid;
  info.gid = st.st_gid;
  info.mode = st.st_mode & 07777;
  info.size = static_cast<std::uint64_t>(st.st_size);
  info.links = static_cast<std::uint64_t>(st.st_nlink);
  info.device = static_cast<std::uint64_t>(st.st_dev);
  info.inode = static_cast<std::uint64_t>(st.st_ino);
  info.mtime_unix_seconds = static_cast<std::int64_t>(st.st_mtime);
  return info;
}

Result<FileInfo> StatFd(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Err(ErrnoStatus("stat", path, errno));
  return ToFileInfo(st);
}

int OpenFlags(WriteMode mode) {
  switch (mode) {
    case WriteMode::kCreateExclusive:
      return O_WRONLY | O_CREAT | O_EXCL;
    case WriteMode::kCreateOrTruncate:
      return O_WRONLY | O_CREAT | O_TRUNC;
    case WriteMode::kCreateOrAppend:
      return O_WRONLY | O_CREAT | O_APPEND;
    case WriteMode::kAppendExisting:
      return O_WRONLY | O_APPEND;
  }
  return O_WRONLY;
}

// "dir/name" for messages.
std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() || dir.back() == '/' ? dir + name : dir + "/" + name;
}

Status CheckName(const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    return InvalidArgument("'" + name + "' is not a file name");
  }
  return Status::Ok();
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}

  Status Append(std::string_view data) override {
    while (!data.empty()) {
      const ssize_t n = ::write(fd_.get(), data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      // write() returning 0 for a non-empty buffer means no room.
      if (n <= 0) return ErrnoStatus("write", path_, n < 0 ? errno : ENOSPC);
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return Status::Ok();
  }
  Status Truncate(std::uint64_t size) override {
    if (::ftruncate(fd_.get(), static_cast<off_t>(size)) != 0) {
      return ErrnoStatus("truncate", path_, errno);
    }
    return Status::Ok();
  }
  Status Sync() override {
    if (::fsync(fd_.get()) != 0) return ErrnoStatus("fsync", path_, errno);
    return Status::Ok();
  }
  Status Close() override {
    if (!fd_.valid()) return Status::Ok();
    if (::close(fd_.Release()) != 0) return ErrnoStatus("close", path_, errno);
    return Status::Ok();
  }
  Result<FileInfo> Stat() const override { return StatFd(fd_.get(), path_); }
  Status SetOwnerAndMode(uid_t uid, gid_t gid, mode_t perms) override {
    if (::fchown(fd_.get(), uid, gid) != 0) return ErrnoStatus("chown", path_, errno);
    if (::fchmod(fd_.get(), perms & 07777) != 0) return ErrnoStatus("chmod", path_, errno);
    return Status::Ok();
  }
  const std::string& path() const override { return path_; }
  int fd() const override { return fd_.get(); }

 private:
  std::string path_;
  UniqueFd fd_;
};

class PosixReadableFile final : public ReadableFile {
 public:
  PosixReadableFile(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}

  Result<std::string> ReadAt(std::uint64_t offset, std::size_t n) const override {
    std::string out(n, '\0');
    std::size_t done = 0;
    while (done < n) {
      const ssize_t r =
          ::pread(fd_.get(), out.data() + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return Err(ErrnoStatus("read", path_, errno));
      if (r == 0) break;
      done += static_cast<std::size_t>(r);
    }
    out.resize(done);
    return out;
  }
  Result<FileInfo> Stat() const override { return StatFd(fd_.get(), path_); }
  const std::string& path() const override { return path_; }
  int fd() const override { return fd_.get(); }

 private:
  std::string path_;
  UniqueFd fd_;
};

// at_fd is a directory descriptor or AT_FDCWD; name is relative to it.
Result<std::unique_ptr<WritableFile>> OpenWritableAt(int at_fd, const std::string& name,
                                                     const std::string& shown, WriteMode mode,
                                                     mode_t perms) {
  UniqueFd fd(::openat(at_fd, name.c_str(), OpenFlags(mode) | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                       perms & 07777));
  if (!fd.valid()) return Err(ErrnoStatus("open", shown, errno));
  // The file is surely ours and new: what the umask took, put back.
  if (mode == WriteMode::kCreateExclusive && ::fchmod(fd.get(), perms & 07777) != 0) {
    const int err = errno;
    (void)::unlinkat(at_fd, name.c_str(), 0);
    return Err(ErrnoStatus("chmod", shown, err));
  }
  return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(shown, std::move(fd)));
}

Result<std::unique_ptr<ReadableFile>> OpenReadableAt(int at_fd, const std::string& name,
                                                     const std::string& shown) {
  // O_NONBLOCK: a FIFO planted at the path must not hang the open.
  UniqueFd fd(
      ::openat(at_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) return Err(ErrnoStatus("open", shown, errno));
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags >= 0) ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  return std::unique_ptr<ReadableFile>(std::make_unique<PosixReadableFile>(shown, std::move(fd)));
}

Result<FileInfo> StatAt(int at_fd, const std::string& name, const std::string& shown) {
  struct stat st {};
  if (::fstatat(at_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return Err(ErrnoStatus("stat", shown, errno));
  }
  return ToFileInfo(st);
}

class PosixDirectory final : public Directory {
 public:
  PosixDirectory(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& name, WriteMode mode,
                                                        mode_t perms) override {
    GATE_RETURN_IF_ERROR(CheckName(name));
    return OpenWritableAt(fd_.get(), name, Join(path_, name), mode, perms);
  }
  Result<std::unique_ptr<ReadableFile>> NewReadableFile(const std::string& name) override {
    GATE_RETURN_IF_ERROR(CheckName(name));
    return OpenReadableAt(fd_.get(), name, Join(path_, name));
  }
  Status Rename(const std::string& from, const std::string& to) override {
    GATE_RETURN_IF_ERROR(CheckName(from));
    GATE_RETURN_IF_ERROR(CheckName(to));
    if (::renameat(fd_.get(), from.c_str(), fd_.get(), to.c_str()) != 0) {
      return ErrnoStatus("rename", Join(path_, from) + " to " + to, errno);
    }
    return Status::Ok();
  }
  Status Remove(const std::string& name) override {
    GATE_RETURN_IF_ERROR(CheckName(name));
    if (::unlinkat(fd_.get(), name.c_str(), 0) != 0) {
      return ErrnoStatus("remove", Join(path_, name), errno);
    }
    return Status::Ok();
  }
  Status Sync() override {
    if (::fsync(fd_.get()) != 0) return ErrnoStatus("fsync", path_, errno);
    return Status::Ok();
  }
  Result<FileInfo> Stat(const std::string& name) const override {
    GATE_RETURN_IF_ERROR(CheckName(name));
    return StatAt(fd_.get(), name, Join(path_, name));
  }
  Result<FileInfo> StatSelf() const override { return StatFd(fd_.get(), path_); }
  Result<std::vector<std::string>> List() const override {
    // fdopendir takes the descriptor it is given; list through a duplicate
    // so ours stays open.
    UniqueFd list_fd(::openat(fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!list_fd.valid()) return Err(ErrnoStatus("list", path_, errno));
    DIR* dir = ::fdopendir(list_fd.get());
    if (dir == nullptr) return Err(ErrnoStatus("list", path_, errno));
    (void)list_fd.Release();  // closedir closes it
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* entry = ::readdir(dir)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    const int err = errno;
    ::closedir(dir);
    if (err != 0) return Err(ErrnoStatus("list", path_, err));
    return names;
  }
  const std::string& path() const override { return path_; }
  int fd() const override { return fd_.get(); }

 private:
  std::string path_;
  UniqueFd fd_;
};

class PosixEnv final : public Env {
 public:
  std::int64_t NowUnixSeconds() override { return static_cast<std::int64_t>(::time(nullptr)); }
  std::int64_t NowUnixMicros() override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  std::int64_t MonotonicNanos() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path, WriteMode mode,
                                                        mode_t perms) override {
    return OpenWritableAt(AT_FDCWD, path, path, mode, perms);
  }
  Result<std::unique_ptr<ReadableFile>> NewReadableFile(const std::string& path) override {
    return OpenReadableAt(AT_FDCWD, path, path);
  }
  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoStatus("rename", from + " to " + to, errno);
    }
    return Status::Ok();
  }
  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoStatus("remove", path, errno);
    return Status::Ok();
  }
  Status CreateDir(const std::string& path, mode_t perms) override {
    if (::mkdir(path.c_str(), perms & 07777) != 0) return ErrnoStatus("create", path, errno);
    // mkdir's mode is filtered by umask; set what was asked for, through a
    // descriptor so a directory swapped in meanwhile is not changed.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid() || ::fchmod(fd.get(), perms & 07777) != 0) {
      return ErrnoStatus("chmod", path, errno);
    }
    return Status::Ok();
  }
  Status SyncDir(const std::string& path) override {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) return ErrnoStatus("open", path, errno);
    if (::fsync(fd.get()) != 0) return ErrnoStatus("fsync", path, errno);
    return Status::Ok();
  }
  Result<FileInfo> Stat(const std::string& path) override { return StatAt(AT_FDCWD, path, path); }
  Result<std::unique_ptr<Directory>> OpenDirectory(const std::string& path) override {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) return Err(ErrnoStatus("open directory", path, errno));
    return std::unique_ptr<Directory>(std::make_unique<PosixDirectory>(path, std::move(fd)));
  }
};

}  // namespace

Status ErrnoStatus(std::string_view what, std::string_view path, int err) {
  std::string message =
      "cannot " + std::string(what) + " " + std::string(path) + ": " + std::strerror(err);
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return ResourceExhausted(std::move(message) + " (free space on that file system)");
    case ENOENT:
      return NotFound(std::move(message));
    case EEXIST:
      return AlreadyExists(std::move(message));
    case EACCES:
    case EPERM:
    case ELOOP:
      return PermissionDenied(std::move(message));
    default:
      return Unavailable(std::move(message));
  }
}

Env* Env::Default() {
  // Never destroyed: code running at exit may still reach it.
  static Env* const env = new PosixEnv();
  return env;
}

}  // namespace gate
