#include "recorder/session/pty.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace gate::recorder {
namespace {

std::string Errno(std::string_view what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

Result<UniqueFd> OpenPtyMaster() {
  UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master.valid()) return Err(Unavailable(Errno("cannot open a pty (posix_openpt)")));
  if (::grantpt(master.get()) != 0) return Err(Unavailable(Errno("grantpt")));
  if (::unlockpt(master.get()) != 0) return Err(Unavailable(Errno("unlockpt")));
  return master;
}

Result<UniqueFd> OpenPtySlave(int master) {
  UniqueFd slave(::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY));
  if (slave.valid()) return slave;
  if (errno != EINVAL && errno != ENOTTY) return Err(Unavailable(Errno("TIOCGPTPEER")));
  // Kernels before 4.13: by name.
  char name[128];
  if (::ptsname_r(master, name, sizeof(name)) != 0) return Err(Unavailable(Errno("ptsname")));
  slave.Reset(::open(name, O_RDWR | O_NOCTTY));
  if (!slave.valid()) return Err(Unavailable(Errno(std::string("cannot open ") + name)));
  return slave;
}

bool GetWindowSize(int fd, winsize& ws) {
  winsize got{};
  if (::ioctl(fd, TIOCGWINSZ, &got) != 0 || got.ws_col == 0 || got.ws_row == 0) return false;
  ws = got;
  return true;
}

Status SetWindowSize(int fd, const winsize& ws) {
  if (::ioctl(fd, TIOCSWINSZ, &ws) != 0) return Unavailable(Errno("TIOCSWINSZ"));
  return Status::Ok();
}

bool EchoEnabled(int fd) {
  termios t{};
  if (::tcgetattr(fd, &t) != 0) return false;
  return (t.c_lflag & ECHO) != 0;
}

Result<RawMode> RawMode::Enter(int fd) {
  termios saved{};
  if (::tcgetattr(fd, &saved) != 0) return Err(Unavailable(Errno("tcgetattr")));
  termios raw = saved;
  ::cfmakeraw(&raw);
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  if (::tcsetattr(fd, TCSADRAIN, &raw) != 0) return Err(Unavailable(Errno("tcsetattr")));
  return RawMode(fd, saved);
}

RawMode::RawMode(RawMode&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), saved_(other.saved_) {}

RawMode::~RawMode() { Restore(); }

void RawMode::Restore() {
  if (fd_ < 0) return;
  // TCSADRAIN: the session's last output is shown before the settings change.
  (void)::tcsetattr(fd_, TCSADRAIN, &saved_);
  fd_ = -1;
}

}  // namespace gate::recorder
