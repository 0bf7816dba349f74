#include "gate/unix_socket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gate {
namespace {

constexpr int kBacklog = 16;

std::string Errno(std::string_view what, const std::string& path, int err) {
  return std::string(what) + " " + path + ": " + std::strerror(err);
}

Result<sockaddr_un> Address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path) ||
      path.find('\0') != std::string::npos) {
    return Err(InvalidArgument("socket path " + path + " is empty or longer than " +
                               std::to_string(sizeof(addr.sun_path) - 1) + " bytes"));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

// connect(2) on a Unix socket: returns 0 or the errno.
int ConnectTo(int fd, const sockaddr_un& addr) {
  int rc;
  do {
    rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  } while (rc != 0 && errno == EINTR);
  return rc == 0 ? 0 : errno;
}

// A socket file nobody listens on is left by a server that died; anything
// else at the path is not ours to remove.
Status ReplaceStale(const std::string& path, const sockaddr_un& addr) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Unavailable(Errno("cannot stat", path, errno));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return FailedPrecondition(path + " exists and is not a socket; remove it");
  }
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!probe.valid()) return Unavailable(Errno("cannot create a socket for", path, errno));
  const int err = ConnectTo(probe.get(), addr);
  if (err == 0 || err == EAGAIN || err == EINPROGRESS) {
    return AlreadyExists("something already listens on " + path);
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Unavailable(Errno("cannot remove the stale socket", path, errno));
  }
  return Status::Ok();
}

}  // namespace

Result<UnixListener> ListenUnix(const std::string& path, mode_t mode) {
  auto addr = Address(path);
  if (!addr) return Err(addr.error());
  GATE_RETURN_IF_ERROR(ReplaceStale(path, *addr));
  UnixListener listener;
  listener.path = path;
  listener.fd.Reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listener.fd.valid())
    return Err(Unavailable(Errno("cannot create a socket for", path, errno)));
  // bind(2) creates the file with the umask applied: 0600 until chmod gives
  // it mode. (Callers bind before starting threads; the umask is the
  // process's.) The directory is the caller's own, so nobody can swap the
  // file between bind and chmod.
  const mode_t old_umask = ::umask(0177);
  const int bound =
      ::bind(listener.fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr));
  const int bind_err = errno;
  ::umask(old_umask);
  if (bound != 0) {
    return Err(bind_err == EADDRINUSE ? AlreadyExists(Errno("cannot bind", path, bind_err))
                                      : Unavailable(Errno("cannot bind", path, bind_err)));
  }
  struct stat st {};
  if (::chmod(path.c_str(), mode) != 0 || ::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    ::unlink(path.c_str());
    return Err(Unavailable(Errno("cannot set the mode of", path, err)));
  }
  listener.dev = st.st_dev;
  listener.ino = st.st_ino;
  if (::listen(listener.fd.get(), kBacklog) != 0) {
    const int err = errno;
    ::unlink(path.c_str());
    return Err(Unavailable(Errno("cannot listen on", path, err)));
  }
  return listener;
}

void RemoveListenerFile(const UnixListener& listener) {
  if (listener.path.empty()) return;
  struct stat st {};
  if (::lstat(listener.path.c_str(), &st) != 0) return;
  if (st.st_dev != listener.dev || st.st_ino != listener.ino) return;
  ::unlink(listener.path.c_str());
}

Result<UniqueFd> ConnectUnix(const std::string& path, bool nonblocking) {
  auto addr = Address(path);
  if (!addr) return Err(addr.error());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0));
  if (!fd.valid()) return Err(Unavailable(Errno("cannot create a socket for", path, errno)));
  const int err = ConnectTo(fd.get(), *addr);
  if (err == 0) return fd;
  if (err == ENOENT || err == ECONNREFUSED) {
    return Err(NotFound("nothing listens at " + path));
  }
  if (err == EACCES || err == EPERM)
    return Err(PermissionDenied(Errno("cannot connect to", path, err)));
  return Err(Unavailable(Errno("cannot connect to", path, err)));
}

}  // namespace gate
