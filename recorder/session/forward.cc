#include "recorder/session/forward.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

namespace gate::recorder {
namespace {

constexpr std::size_t kChunk = 64 * 1024;
constexpr std::size_t kMaxHost = 253;

bool HostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_' || c == ':';
}

// One direction of the relay: what was read and not yet written.
struct Leg {
  int from = -1;
  int to = -1;
  std::string pending;
  std::uint64_t bytes = 0;
  bool done = false;
};

// Reads one chunk; false at EOF or on an error.
bool ReadInto(Leg& leg) {
  char buf[kChunk];
  ssize_t n;
  do {
    n = ::read(leg.from, buf, sizeof(buf));
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
  if (n <= 0) return false;
  leg.bytes += static_cast<std::uint64_t>(n);
  leg.pending.assign(buf, static_cast<std::size_t>(n));
  return true;
}

// Writes what it can; false if `to` failed for good.
bool WritePending(Leg& leg) {
  while (!leg.pending.empty()) {
    const ssize_t n = ::write(leg.to, leg.pending.data(), leg.pending.size());
    if (n > 0) {
      leg.pending.erase(0, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    return false;
  }
  return true;
}

void CloseOut(int fd) {
  if (fd > STDERR_FILENO) {
    (void)::close(fd);
    return;
  }
  // Keep 0-2 taken, so no later open lands on them.
  UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null.valid() || ::dup2(null.get(), fd) < 0) (void)::close(fd);
}

}  // namespace

std::string ForwardTarget::Text() const {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
}

bool IsForwardCommand(std::string_view command) {
  return command == kForwardCommand ||
         (command.starts_with(kForwardCommand) &&
          (command[kForwardCommand.size()] == ' ' || command[kForwardCommand.size()] == '\t'));
}

Result<ForwardTarget> ParseForwardCommand(std::string_view command) {
  const std::string usage = "usage: gate-forward HOST PORT";
  if (!IsForwardCommand(command)) return Err(InvalidArgument(usage));
  std::string_view rest = command.substr(kForwardCommand.size());
  if (!rest.starts_with(' ')) return Err(InvalidArgument(usage));
  rest.remove_prefix(1);
  const std::size_t space = rest.find(' ');
  if (space == std::string_view::npos) return Err(InvalidArgument(usage));
  const std::string_view host = rest.substr(0, space);
  const std::string_view port = rest.substr(space + 1);
  if (host.empty() || host.size() > kMaxHost || host.front() == '-' ||
      !std::all_of(host.begin(), host.end(), HostChar)) {
    return Err(InvalidArgument("gate-forward: bad host name or address"));
  }
  if (port.empty() || port.size() > 5 || port.front() == '0' ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoi(std::string(port)) > 65535) {
    return Err(InvalidArgument("gate-forward: the port must be a number from 1 to 65535"));
  }
  return ForwardTarget{std::string(host), std::string(port)};
}

Result<UniqueFd> ConnectTo(const ForwardTarget& target, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(target.host.c_str(), target.port.c_str(), &hints, &found);
  if (rc != 0) {
    return Err(Unavailable("cannot resolve " + target.host + ": " + ::gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
  int err = ECONNREFUSED;
  for (const addrinfo* a = list.get(); a != nullptr; a = a->ai_next) {
    UniqueFd fd(
        ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol));
    if (!fd.valid()) {
      err = errno;
      continue;
    }
    if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) == 0) return fd;
    if (errno != EINPROGRESS) {
      err = errno;
      continue;
    }
    pollfd p{fd.get(), POLLOUT, 0};
    int ready;
    do {
      ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
    } while (ready < 0 && errno == EINTR);
    if (ready == 0) {
      err = ETIMEDOUT;
      continue;
    }
    int so_error = 0;
    socklen_t len = sizeof(so_error);
    if (ready < 0 || ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &len) != 0) {
      err = errno;
      continue;
    }
    if (so_error == 0) return fd;
    err = so_error;
  }
  return Err(Unavailable("cannot connect to " + target.Text() + ": " + std::strerror(err)));
}

ForwardEnd RelayForward(int in, int out, int socket, int signal_fd) {
  Leg up{in, socket, {}, 0, false};     // the session's stdin to the target
  Leg down{socket, out, {}, 0, false};  // the target to the session's stdout
  ForwardEnd end;
  while (!down.done && !end.hung_up) {
    pollfd fds[4];
    Leg* owner[4];
    bool writes[4];
    nfds_t n = 0;
    fds[n] = {signal_fd, POLLIN, 0};
    owner[n] = nullptr;
    writes[n++] = false;
    for (Leg* leg : {&up, &down}) {
      if (leg->done) continue;
      const bool write = !leg->pending.empty();
      fds[n] = {write ? leg->to : leg->from, static_cast<short>(write ? POLLOUT : POLLIN), 0};
      owner[n] = leg;
      writes[n++] = write;
    }
    if (::poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (owner[i] == nullptr) {
        signalfd_siginfo info[8];
        const ssize_t got = ::read(signal_fd, info, sizeof(info));
        for (ssize_t k = 0; got > 0 && k < got / static_cast<ssize_t>(sizeof(info[0])); ++k) {
          if (info[k].ssi_signo == SIGHUP || info[k].ssi_signo == SIGTERM) end.hung_up = true;
        }
        continue;
      }
      Leg& leg = *owner[i];
      const bool ok = writes[i] ? WritePending(leg) : ReadInto(leg);
      if (!ok) leg.done = true;
      // A chunk just read goes out at once if it can.
      if (ok && !writes[i] && !leg.pending.empty() && !WritePending(leg)) leg.done = true;
      if (leg.done && &leg == &up) (void)::shutdown(socket, SHUT_WR);
    }
  }
  CloseOut(out);
  end.bytes_in = up.bytes;
  end.bytes_out = down.bytes;
  return end;
}

}  // namespace gate::recorder
