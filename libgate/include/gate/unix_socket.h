// Unix stream sockets on a path: listening (with the file's mode set, a
// stale socket replaced, a live one never stolen), removing the file only
// while it is still ours, and connecting. Used by the recorder's join socket
// (0666), gate-node otp-relay (0600), gate join and pam_gate.so.
#ifndef GATE_UNIX_SOCKET_H_
#define GATE_UNIX_SOCKET_H_

#include <sys/types.h>

#include <string>

#include "gate/status.h"
#include "gate/unique_fd.h"

namespace gate {

struct UnixListener {
  UniqueFd fd;  // non-blocking, close-on-exec, listening
  std::string path;
  dev_t dev = 0;  // the socket file's identity, for RemoveListenerFile
  ino_t ino = 0;
};

// Binds and listens on an AF_UNIX stream socket at path, whose file gets
// mode (0666 for the join socket: anyone may connect and the recorder
// decides who may join; 0600 for root-only services). It is bound 0600 and
// only then given mode, so it is never more open than asked. A socket file
// already at path is replaced if nobody listens on it (a crashed server's);
// AlreadyExists if someone does. FailedPrecondition if path is something
// other than a socket; InvalidArgument if it does not fit in sockaddr_un
// (107 bytes); Unavailable for other system errors.
Result<UnixListener> ListenUnix(const std::string& path, mode_t mode);

// Unlinks listener.path if it still names the socket ListenUnix created (not
// a file someone put there since). Best effort.
void RemoveListenerFile(const UnixListener& listener);

// Connects to the AF_UNIX stream socket at path (close-on-exec). NotFound if
// nothing is there or nobody listens; InvalidArgument if path is too long;
// PermissionDenied or Unavailable otherwise. nonblocking: the descriptor is
// non-blocking, and a server whose backlog is full is Unavailable at once
// instead of a wait.
Result<UniqueFd> ConnectUnix(const std::string& path, bool nonblocking = false);

}  // namespace gate

#endif  // GATE_UNIX_SOCKET_H_
