#include "sshd-hooks/common/safe_path.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "gate/secure_file.h"

namespace gate::hooks {
namespace {

std::string Unsafe(const std::string& path, const std::string& why) {
  return "sshd will refuse to run " + path + " as AuthorizedPrincipalsCommand: " + why +
         " (sshd requires the program and every directory above it to be owned by root and "
         "not writable by group or others; install it as /usr/sbin/gate-principals or fix the "
         "permissions)";
}

}  // namespace

Status CheckSshdSafeExecutable(const std::string& path) {
  if (path.empty() || path.front() != '/') {
    return InvalidArgument("--principals-command must be an absolute path, not '" + path + "'");
  }
  std::unique_ptr<char, decltype(&::free)> real(::realpath(path.c_str(), nullptr), &::free);
  if (!real) {
    const int err = errno;
    if (err == ENOENT) return NotFound(path + " does not exist (--principals-command)");
    return FailedPrecondition("cannot resolve " + path + ": " + std::strerror(err));
  }
  std::string current = real.get();

  struct stat st {};
  if (::stat(current.c_str(), &st) != 0) {
    return FailedPrecondition("cannot stat " + current + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return FailedPrecondition(Unsafe(path, current + " is not a file"));
  if (st.st_uid != 0) {
    return FailedPrecondition(
        Unsafe(path, current + " is owned by uid " + std::to_string(st.st_uid)));
  }
  if ((st.st_mode & 022) != 0) {
    return FailedPrecondition(Unsafe(
        path, current + " is writable by group/others (mode " + OctalMode(st.st_mode) + ")"));
  }
  if ((st.st_mode & 0001) == 0) {
    return FailedPrecondition(
        current + " is not executable by others (mode " + OctalMode(st.st_mode) +
        "), so AuthorizedPrincipalsCommandUser cannot run it; run: chmod 755 " + current);
  }

  while (current != "/") {
    const std::size_t slash = current.find_last_of('/');
    current = slash == 0 ? "/" : current.substr(0, slash);
    if (::stat(current.c_str(), &st) != 0) {
      return FailedPrecondition("cannot stat " + current + ": " + std::strerror(errno));
    }
    if (st.st_uid != 0) {
      return FailedPrecondition(
          Unsafe(path, "directory " + current + " is owned by uid " + std::to_string(st.st_uid)));
    }
    if ((st.st_mode & 022) != 0) {
      return FailedPrecondition(Unsafe(path, "directory " + current +
                                                 " is writable by group/others (mode " +
                                                 OctalMode(st.st_mode) + ")"));
    }
    if ((st.st_mode & 0001) == 0) {
      return FailedPrecondition("directory " + current + " is not searchable by others (mode " +
                                OctalMode(st.st_mode) +
                                "), so AuthorizedPrincipalsCommandUser cannot reach " + path);
    }
  }
  return Status::Ok();
}

}  // namespace gate::hooks
