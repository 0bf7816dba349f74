// Socket I/O for the OTP relay's one-line messages (gate/otp_relay.h).
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "gate/otp_relay.h"

namespace gate {
namespace {

using Clock = std::chrono::steady_clock;

// Waits until fd is ready for events or the deadline passes.
Status WaitFor(int fd, short events, Clock::time_point deadline, const char* what) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return Unavailable(std::string("timed out ") + what);
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 60000)));
    if (n > 0) return Status::Ok();
    if (n < 0 && errno != EINTR) return Unavailable(std::string("poll: ") + std::strerror(errno));
  }
}

}  // namespace

Result<SecretString> ReadOtpRelayLine(int fd, Clock::time_point deadline) {
  SecretString line;
  line.reserve(kOtpRelayMaxLine);
  char buf[kOtpRelayMaxLine];
  for (;;) {
    if (Status s = WaitFor(fd, POLLIN, deadline, "waiting for a line"); !s.ok()) return Err(s);
    // One byte at most past the newline is never read: peek, then consume
    // up to and including it, so nothing after the line is lost or kept.
    const ssize_t peeked = ::recv(fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    if (peeked < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return Err(Unavailable(std::string("read: ") + std::strerror(errno)));
    }
    if (peeked == 0) return Err(Unavailable("connection closed before a whole line"));
    const void* nl = std::memchr(buf, '\n', static_cast<std::size_t>(peeked));
    const std::size_t take = nl != nullptr
                                 ? static_cast<std::size_t>(static_cast<const char*>(nl) - buf) + 1
                                 : static_cast<std::size_t>(peeked);
    const ssize_t got = ::recv(fd, buf, take, MSG_DONTWAIT);
    if (got != static_cast<ssize_t>(take)) {
      Wipe(buf, sizeof buf);
      return Err(Unavailable("short read"));
    }
    line.append(buf, take);
    Wipe(buf, sizeof buf);
    if (nl != nullptr) line.pop_back();
    if (line.size() >= kOtpRelayMaxLine) return Err(InvalidArgument("line too long"));
    if (nl != nullptr) return line;
  }
}

Status WriteOtpRelayLine(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    GATE_RETURN_IF_ERROR(WaitFor(fd, POLLOUT, deadline, "sending a line"));
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return Unavailable(std::string("write: ") + std::strerror(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

}  // namespace gate
