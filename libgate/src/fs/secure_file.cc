#include "gate/secure_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "fs/temp_name.h"

namespace gate {
namespace {

std::string ErrnoText(int err) {
  char buf[256];
  // GNU strerror_r: returns a pointer that may or may not be buf.
  return strerror_r(err, buf, sizeof(buf));
}

// Maps an open()/mkdir() failure on path to a Status naming the path.
Status OpenError(const std::string& path, int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return NotFound(path + " does not exist");
    case ELOOP:
      // With O_NOFOLLOW, ELOOP means the last component is a symlink.
      return PermissionDenied(path + " is a symbolic link");
    case EACCES:
    case EPERM:
      return PermissionDenied("cannot open " + path + ": " + ErrnoText(err));
    default:
      return Unavailable("cannot open " + path + ": " + ErrnoText(err));
  }
}

// Reads fd to EOF into out (anything with data()/resize()), refusing more
// than max_size bytes. size_hint sizes the first buffer.
template <typename Buffer>
Status ReadAll(int fd, const std::string& path, std::size_t max_size, std::size_t size_hint,
               Buffer& out) {
  // One byte beyond the cap lets us tell "exactly max_size" from "more".
  const std::size_t limit = max_size + 1;
  std::size_t capacity = std::min(std::max<std::size_t>(size_hint + 1, 4096), limit);
  Buffer buf;
  buf.resize(capacity);
  std::size_t len = 0;
  for (;;) {
    if (len == capacity) {
      if (capacity == limit) break;
      capacity = std::min(capacity * 2, limit);
      buf.resize(capacity);
    }
    ssize_t n = ::read(fd, buf.data() + len, capacity - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Unavailable("cannot read " + path + ": " + ErrnoText(errno));
    }
    if (n == 0) break;
    len += static_cast<std::size_t>(n);
  }
  if (len > max_size) {
    return InvalidArgument(path + " is too large (limit " + std::to_string(max_size) + " bytes)");
  }
  buf.resize(len);
  out = std::move(buf);
  return Status::Ok();
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Unavailable(ErrnoText(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

std::string BaseName(const std::string& path) {
  std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::string DirName(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string OctalMode(mode_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

Result<UniqueFd> OpenSecureFile(const std::string& path, const FilePolicy& policy) {
  // O_NONBLOCK: opening a FIFO planted at path must not hang us; the
  // S_ISREG check below then refuses it.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) return Err(OpenError(path, errno));

  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Err(Unavailable("cannot stat " + path + ": " + ErrnoText(errno)));
  }
  if (!S_ISREG(st.st_mode)) return Err(PermissionDenied(path + " is not a regular file"));

  const uid_t euid = ::geteuid();
  const bool owner_ok = policy.allowed_owners.empty()
                            ? st.st_uid == euid
                            : std::find(policy.allowed_owners.begin(), policy.allowed_owners.end(),
                                        st.st_uid) != policy.allowed_owners.end();
  if (!owner_ok) {
    const uid_t want = policy.allowed_owners.empty() ? euid : policy.allowed_owners.front();
    std::string expected = "uid " + std::to_string(want);
    for (std::size_t i = 1; i < policy.allowed_owners.size(); ++i) {
      expected += " or " + std::to_string(policy.allowed_owners[i]);
    }
    return Err(PermissionDenied(path + " is owned by uid " + std::to_string(st.st_uid) +
                                ", expected " + expected + "; run: chown " + std::to_string(want) +
                                " " + path));
  }

  const std::string fix = policy.secret ? "chmod 600 " : "chmod go-w ";
  if ((st.st_mode & 022) != 0) {
    return Err(PermissionDenied(path + " is writable by group/others (mode " +
                                OctalMode(st.st_mode) + "); run: " + fix + path));
  }
  if (!policy.secret && !policy.others_may_read && (st.st_mode & 007) != 0) {
    return Err(PermissionDenied(path + " is readable by others (mode " + OctalMode(st.st_mode) +
                                "); run: chmod o-rwx " + path));
  }
  if (policy.secret && (st.st_mode & 077) != 0) {
    return Err(PermissionDenied(path + " is readable by group/others (mode " +
                                OctalMode(st.st_mode) + "); run: " + fix + path));
  }
  if (static_cast<std::uintmax_t>(st.st_size) > policy.max_size) {
    return Err(InvalidArgument(path + " is too large (" + std::to_string(st.st_size) +
                               " bytes; limit " + std::to_string(policy.max_size) + ")"));
  }

  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags >= 0) ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

Result<SecretString> ReadSecureFile(const std::string& path, const FilePolicy& policy) {
  auto fd = OpenSecureFile(path, policy);
  if (!fd) return Err(fd.error());
  struct stat st {};
  std::size_t hint = 0;
  if (::fstat(fd->get(), &st) == 0 && st.st_size > 0) {
    hint = static_cast<std::size_t>(st.st_size);
  }
  SecretString out;
  Status s = ReadAll(fd->get(), path, policy.max_size, hint, out);
  if (!s.ok()) return Err(s);
  return out;
}

Result<std::string> ReadFile(const std::string& path, std::size_t max_size) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) {
    int err = errno;
    if (err == ELOOP) return Err(Unavailable("cannot open " + path + ": " + ErrnoText(err)));
    return Err(OpenError(path, err));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Err(Unavailable("cannot stat " + path + ": " + ErrnoText(errno)));
  }
  if (!S_ISREG(st.st_mode)) return Err(InvalidArgument(path + " is not a regular file"));
  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags >= 0) ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  std::string out;
  Status s = ReadAll(fd.get(), path, max_size, static_cast<std::size_t>(st.st_size), out);
  if (!s.ok()) return Err(s);
  return out;
}

Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode) {
  if (path.empty() || path.back() == '/') {
    return InvalidArgument("cannot write '" + path + "': not a file path");
  }
  const std::string dir = DirName(path);

  std::string tmp;
  UniqueFd fd;
  // A collision needs two 48-bit random names to match; a few tries cover
  // EEXIST without looping forever on a directory we cannot write.
  for (int attempt = 0; attempt < 8 && !fd.valid(); ++attempt) {
    auto suffix = RandomSuffix();
    if (!suffix) return suffix.error();
    tmp = dir + "/." + BaseName(path) + ".tmp-" + *suffix;
    fd.Reset(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid() && errno != EEXIST) {
      int err = errno;
      Status s = OpenError(dir, err);
      return Status(s.code(),
                    "cannot create a file in " + dir + " to write " + path + ": " + ErrnoText(err));
    }
  }
  if (!fd.valid()) return Unavailable("cannot create a temporary file for " + path);

  auto fail = [&](const std::string& what, int err) {
    fd.Reset();
    ::unlink(tmp.c_str());
    return Unavailable("cannot write " + path + ": " + what + ": " + ErrnoText(err));
  };

  // fchmod, not the open() mode: umask must not change what the caller asked for.
  if (::fchmod(fd.get(), mode & 07777) != 0) return fail("fchmod", errno);
  Status w = WriteAll(fd.get(), data);
  if (!w.ok()) {
    fd.Reset();
    ::unlink(tmp.c_str());
    return Unavailable("cannot write " + path + ": " + w.message());
  }
  if (::fsync(fd.get()) != 0) return fail("fsync", errno);
  // close() can report a deferred write error (NFS); check it before rename.
  if (::close(fd.Release()) != 0) return fail("close", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("rename", errno);

  // The rename is only durable once the directory entry is on disk.
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd.valid() || ::fsync(dfd.get()) != 0) {
    return Unavailable("wrote " + path + " but could not sync " + dir + ": " + ErrnoText(errno));
  }
  return Status::Ok();
}

Status EnsurePrivateDir(const std::string& dir, mode_t mode) {
  if (dir.empty()) return InvalidArgument("empty directory path");
  std::string path = dir;
  while (path.size() > 1 && path.back() == '/') path.pop_back();

  // Parents: create what is missing (0755 so others can traverse to this
  // directory, whose own mode is what protects it); leave existing ones alone.
  for (std::size_t pos = path.find('/', 1); pos != std::string::npos;
       pos = path.find('/', pos + 1)) {
    if (path[pos - 1] == '/') continue;  // "a//b"
    const std::string parent = path.substr(0, pos);
    if (::mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) {
      int err = errno;
      Status s = OpenError(parent, err);
      return Status(s.code(), "cannot create " + parent + ": " + ErrnoText(err));
    }
  }

  bool created = false;
  if (::mkdir(path.c_str(), mode & 07777) == 0) {
    created = true;
  } else if (errno != EEXIST) {
    int err = errno;
    Status s = OpenError(path, err);
    return Status(s.code(), "cannot create " + path + ": " + ErrnoText(err));
  }

  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    if (err == ENOTDIR) {
      // O_DIRECTORY wins over O_NOFOLLOW: a symlink reports ENOTDIR too. The
      // lstat only picks the message; the open already refused.
      struct stat st {};
      if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
        return PermissionDenied(path + " is a symbolic link");
      }
      return PermissionDenied(path + " is not a directory");
    }
    return OpenError(path, err);
  }
  // mkdir's mode is filtered by umask; we created it, so set exactly what
  // was asked for (through the fd, so a swapped-in path is not chmod'ed).
  if (created && ::fchmod(fd.get(), mode & 07777) != 0) {
    return Unavailable("cannot chmod " + path + ": " + ErrnoText(errno));
  }
  SafePathOptions options;
  options.forbidden_bits = ~mode & 077;
  return CheckSafeDirFd(fd.get(), path, ::geteuid(), options);
}

}  // namespace gate
