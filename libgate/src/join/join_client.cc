#include "gate/join_client.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>

#include "gate/exit_code.h"
#include "gate/unix_socket.h"

namespace gate::recorder {
namespace {

constexpr std::size_t kReadChunk = kFrameHeaderSize + kMaxFramePayload;

// Writes everything, waiting out EAGAIN on a non-blocking descriptor.
// MSG_NOSIGNAL only applies to sockets, hence the is_socket switch.
Status WriteAll(int fd, std::string_view data, bool is_socket) {
  while (!data.empty()) {
    const ssize_t n = is_socket ? ::send(fd, data.data(), data.size(), MSG_NOSIGNAL)
                                : ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        pollfd p{fd, POLLOUT, 0};
        (void)::poll(&p, 1, -1);
        continue;
      }
      return Unavailable(std::strerror(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

// The recorder's texts go to a terminal: no escape sequences from them.
std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  return out;
}

}  // namespace

Result<Accept> JoinClient::Hello(JoinMode mode, std::chrono::milliseconds timeout) {
  mode_ = mode;
  std::string hello;
  AppendFrame(hello, FrameType::kHello, HelloJson(mode));
  Status sent = WriteAll(socket_.get(), hello, true);
  // A recorder that refuses at once may close before reading the hello: its
  // R is still there to read, so a failed send is not the end.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string buf(kReadChunk, '\0');
  for (;;) {
    auto frame = decoder_.Next();
    if (!frame) return Err(Unavailable("the recorder's answer: " + frame.error().message()));
    if (frame->has_value()) {
      const Frame& f = **frame;
      if (f.type == FrameType::kRefuse) return Err(PermissionDenied(Printable(f.payload)));
      if (f.type != FrameType::kAccept) {
        return Err(Unavailable("the recorder answered the hello with an unexpected frame"));
      }
      auto accept = ParseAccept(f.payload);
      if (!accept) return Err(Unavailable("malformed accept: " + accept.error().message()));
      return accept;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Err(Unavailable("no answer from the recorder"));
    pollfd p{socket_.get(), POLLIN, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno != EINTR) return Err(Unavailable(std::strerror(errno)));
    if (rc <= 0) continue;
    const ssize_t n = ::recv(socket_.get(), buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return Err(Unavailable(!sent.ok() ? "cannot send the hello: " + sent.message()
                                        : std::string("the recorder closed the connection")));
    }
    decoder_.Feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
  }
}

RelayEnd JoinClient::Relay(const RelayIo& io) {
  const auto lost = [](std::string text) {
    return RelayEnd{RelayEnd::Kind::kLost, std::move(text)};
  };
  std::string buf(kReadChunk, '\0');
  bool in_open = io.in >= 0;
  for (;;) {
    for (;;) {
      auto frame = decoder_.Next();
      if (!frame) return lost("protocol error: " + frame.error().message());
      if (!frame->has_value()) break;
      const Frame& f = **frame;
      Status written;
      switch (f.type) {
        case FrameType::kOutput:
          written = WriteAll(io.out, f.payload, false);
          break;
        case FrameType::kNotice:
          written = WriteAll(io.out, "\r\n[gate] " + Printable(f.payload) + "\r\n", false);
          break;
        case FrameType::kEnd:
          return RelayEnd{RelayEnd::Kind::kEnded, DescribeEnd(f.payload)};
        default:
          return lost("protocol error: unexpected frame after the accept");
      }
      if (!written.ok()) return lost("cannot write the output: " + written.message());
    }

    pollfd fds[3] = {
        {socket_.get(), POLLIN, 0}, {in_open ? io.in : -1, POLLIN, 0}, {io.stop, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return lost(std::string("poll: ") + std::strerror(errno));
    }
    if (fds[2].revents != 0) return RelayEnd{RelayEnd::Kind::kStopped, ""};
    if (fds[0].revents != 0) {
      const ssize_t n = ::recv(socket_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
      if (n == 0) {
        return lost(decoder_.pending() > 0 ? "the connection closed inside a frame"
                                           : "the recorder closed the connection");
      }
      if (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
        return lost(std::strerror(errno));
      }
      if (n > 0) decoder_.Feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    }
    if (in_open && fds[1].revents != 0) {
      // Small reads: keystrokes come a few bytes at a time.
      char keys[4096];
      const ssize_t n = ::read(io.in, keys, sizeof(keys));
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        in_open = false;
        continue;
      }
      std::string_view typed(keys, static_cast<std::size_t>(n));
      const std::size_t detach = typed.find(kDetachKey);
      const std::string_view send = typed.substr(0, detach);
      if (mode_ == JoinMode::kPeer && !send.empty()) {
        std::string frames;
        AppendFrames(frames, FrameType::kInput, send);
        Status s = WriteAll(socket_.get(), frames, true);
        if (!s.ok()) return lost("cannot send keystrokes: " + s.message());
      }
      if (detach != std::string_view::npos) return RelayEnd{RelayEnd::Kind::kDetached, ""};
    }
  }
}

namespace {

constexpr auto kHelloTimeout = std::chrono::seconds(10);

// Raw mode for the joiner's terminal while attached, put back on every way
// out (the signals that would end us arrive through a signalfd instead).
class RawTerminal {
 public:
  explicit RawTerminal(int fd) : fd_(fd) {
    if (::isatty(fd_) == 0 || ::tcgetattr(fd_, &saved_) != 0) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    active_ = ::tcsetattr(fd_, TCSADRAIN, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(fd_, TCSADRAIN, &saved_);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

// SIGINT, SIGTERM, SIGHUP and SIGQUIT become readable events on the
// returned descriptor, so the relay stops and the terminal is restored.
Result<UniqueFd> SignalsAsFd() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&set, s);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) {
    return Err(Internal(std::string("sigprocmask: ") + std::strerror(errno)));
  }
  UniqueFd fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd.valid()) return Err(Internal(std::string("signalfd: ") + std::strerror(errno)));
  return fd;
}

void Say(int fd, const std::string& text) { (void)WriteAll(fd, text, false); }

}  // namespace

Result<Joined> StartJoin(const std::string& socket_path, const std::string& session_id,
                         JoinMode mode) {
  auto socket = ConnectUnix(socket_path);
  if (!socket) {
    if (socket.error().code() == Code::kNotFound) {
      return Err(NotFound("no live session " + session_id + " on this node (" + socket_path + ")"));
    }
    return Err(socket.error());
  }
  JoinClient client(std::move(*socket));
  auto accept = client.Hello(mode, kHelloTimeout);
  if (!accept) return Err(accept.error());
  return Joined{std::move(client), std::move(*accept)};
}

int RunAttached(JoinClient& client, const Accept& accept, JoinMode mode,
                const std::string& session_id, int in, int out, int err) {
  auto stop = SignalsAsFd();
  if (!stop) {
    Say(err, "gate join: " + stop.error().message() + "\n");
    return cli::kExitFailure;
  }
  ::signal(SIGPIPE, SIG_IGN);
  Say(err, "Joined session " + session_id + " of " + Printable(accept.user) + " (login " +
               Printable(accept.login) + ") as " + std::string(JoinModeName(mode)) + "." +
               (mode == JoinMode::kObserver ? " Your keystrokes are not sent." : "") +
               " Press Ctrl-] to leave.\n");
  RelayEnd end;
  {
    RawTerminal raw(in);
    end = client.Relay({in, out, stop->get()});
  }
  switch (end.kind) {
    case RelayEnd::Kind::kEnded:
      Say(err, "\n" + end.text + "\n");
      return cli::kExitOk;
    case RelayEnd::Kind::kDetached:
      Say(err, "\ndetached from session " + session_id + "\n");
      return cli::kExitOk;
    case RelayEnd::Kind::kStopped:
      Say(err, "\ngate join: interrupted; left session " + session_id + "\n");
      return cli::kExitFailure;
    case RelayEnd::Kind::kLost:
      break;
  }
  Say(err, "\ngate join: lost the session: " + end.text + "\n");
  return cli::kExitFailure;
}

}  // namespace gate::recorder
