// The join socket's file: creating it (mode 0666, replacing a stale one) and
// removing it only while it is still ours.
#ifndef GATE_RECORDER_JOIN_LISTEN_SOCKET_H_
#define GATE_RECORDER_JOIN_LISTEN_SOCKET_H_

#include <sys/types.h>

#include <string>

#include "gate/status.h"
#include "gate/unique_fd.h"

namespace gate::recorder {

struct UnixListener {
  UniqueFd fd;  // non-blocking, close-on-exec, listening
  std::string path;
  dev_t dev = 0;  // the socket file's identity, for RemoveListenerFile
  ino_t ino = 0;
};

// Binds and listens on an AF_UNIX stream socket at path, chmod 0666: anyone
// may connect, and the recorder decides who may join (SO_PEERCRED). A socket
// file already at path is replaced if nobody listens on it (a crashed
// recorder's); AlreadyExists if someone does. FailedPrecondition if path is
// something other than a socket; InvalidArgument if it does not fit in
// sockaddr_un (107 bytes); Unavailable for other system errors.
Result<UnixListener> ListenUnix(const std::string& path);

// Unlinks listener.path if it still names the socket ListenUnix created (not
// a file someone put there since). Best effort.
void RemoveListenerFile(const UnixListener& listener);

// Connects to the AF_UNIX stream socket at path (blocking, close-on-exec).
// NotFound if nothing is there or nobody listens; InvalidArgument if path is
// too long; PermissionDenied or Unavailable otherwise.
Result<UniqueFd> ConnectUnix(const std::string& path);

}  // namespace gate::recorder

#endif  // GATE_RECORDER_JOIN_LISTEN_SOCKET_H_
