#include "gate/prompt.h"

#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <optional>

namespace gate::cli {
namespace {

constexpr std::size_t kMaxLine = 4096;

// Restores the terminal's modes on every exit path, including exceptions.
class TermiosGuard {
 public:
  explicit TermiosGuard(int fd) : fd_(fd) {
    active_ = tcgetattr(fd_, &saved_) == 0;
    if (active_) {
      termios quiet = saved_;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      quiet.c_lflag |= ECHONL;
      tcsetattr(fd_, TCSAFLUSH, &quiet);
    }
  }
  ~TermiosGuard() {
    if (active_) tcsetattr(fd_, TCSAFLUSH, &saved_);
  }
  TermiosGuard(const TermiosGuard&) = delete;
  TermiosGuard& operator=(const TermiosGuard&) = delete;

 private:
  int fd_;
  bool active_ = false;
  termios saved_{};
};

template <typename S>
Result<S> ReadInto(std::string_view prompt, bool secret) {
  // Echo goes off before the prompt shows: a person (or a script) answering
  // as soon as it appears must neither see the secret echoed nor lose it to
  // the TCSAFLUSH that switches echo off.
  std::optional<TermiosGuard> guard;
  if (secret && Interactive()) guard.emplace(STDIN_FILENO);
  std::cerr << prompt << std::flush;
  S line;
  // Read byte by byte from fd 0 so nothing beyond this line is buffered away
  // from the next prompt (answers may all arrive at once on a pipe).
  while (true) {
    char c = 0;
    const ssize_t n = ::read(STDIN_FILENO, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (line.empty()) {
        if (!Interactive()) std::cerr << "\n";
        return Err(Unavailable("no answer: end of input"));
      }
      break;
    }
    if (c == '\n') break;
    if (line.size() >= kMaxLine) return Err(InvalidArgument("input line too long"));
    line.push_back(c);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (!Interactive()) std::cerr << "\n";
  return line;
}

}  // namespace

bool Interactive() { return isatty(STDIN_FILENO) == 1; }

Result<std::string> ReadLine(std::string_view prompt) {
  return ReadInto<std::string>(prompt, false);
}

Result<SecretString> ReadSecret(std::string_view prompt) {
  return ReadInto<SecretString>(prompt, true);
}

}  // namespace gate::cli
