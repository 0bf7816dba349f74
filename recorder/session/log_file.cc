#include "recorder/session/log_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gate/log.h"
#include "gate/unique_fd.h"

namespace gate::recorder {

Status RouteLogToFile(const std::string& dir) {
  if (log::CurrentRoute() != log::Route::kFallback) return Status::Ok();
  const std::string path = dir + "/" + kLogFileName;
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return Unavailable("cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Unavailable("cannot stat " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) {
    return PermissionDenied(path + " is not a regular file of the recorder's");
  }
  if ((st.st_mode & 077) != 0 && ::fchmod(fd.get(), 0600) != 0) {
    return Unavailable("cannot chmod " + path + ": " + std::strerror(errno));
  }
  if (st.st_size > kMaxLogFileSize) return ResourceExhausted(path + " is full");
  // Lives as long as the process: log lines may come until it exits.
  log::SetFallbackFd(fd.Release());
  return Status::Ok();
}

}  // namespace gate::recorder
