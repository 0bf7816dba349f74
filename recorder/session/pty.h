// The session's pty and the outer terminal: opening a master, window sizes,
// raw mode. Linux semantics are relied on and tested: termios and window
// size ioctls on a master act on its slave, and TIOCGPTPEER opens the slave
// from the master without a path lookup.
#ifndef GATE_RECORDER_SESSION_PTY_H_
#define GATE_RECORDER_SESSION_PTY_H_

#include <sys/ioctl.h>
#include <termios.h>

#include "gate/status.h"
#include "gate/unique_fd.h"

namespace gate::recorder {

// A new pty master (close-on-exec, no controlling tty), granted and
// unlocked. Its slave belongs to the effective uid at the time of the call.
Result<UniqueFd> OpenPtyMaster();

// Opens master's slave read-write without making it a controlling tty.
// The descriptor is not close-on-exec (it becomes a child's stdio).
Result<UniqueFd> OpenPtySlave(int master);

// TIOCGWINSZ; false if fd is not a terminal or reports a zero size.
bool GetWindowSize(int fd, winsize& ws);
Status SetWindowSize(int fd, const winsize& ws);

// True if the terminal behind fd (a master: its slave) echoes input, i.e.
// what is typed is shown and not a password. False on any error.
bool EchoEnabled(int fd);

// Puts a terminal in raw mode (as ssh -t does on its side) and restores the
// saved settings on Restore() or destruction. Not copyable.
class RawMode {
 public:
  // Unavailable if fd is not a terminal or its settings cannot be changed.
  static Result<RawMode> Enter(int fd);
  RawMode(RawMode&& other) noexcept;
  RawMode& operator=(RawMode&&) = delete;
  ~RawMode();
  void Restore();

 private:
  RawMode(int fd, const termios& saved) : fd_(fd), saved_(saved) {}
  int fd_ = -1;
  termios saved_{};
};

}  // namespace gate::recorder

#endif  // GATE_RECORDER_SESSION_PTY_H_
