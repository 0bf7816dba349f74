#include "recorder/join/join_hub.h"

#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "gate/join_protocol.h"
#include "gate/log.h"
#include "gate/unique_fd.h"
#include "gate/unix_socket.h"
#include "recorder/join/join_history.h"

namespace gate::recorder {
namespace {

constexpr std::size_t kReadChunk = kFrameHeaderSize + kMaxFramePayload;
// Accepting is bounded per poll so a connection storm cannot starve the
// session's own output.
constexpr int kMaxAcceptsPerPoll = 16;
// The history goes to a joiner one frame's worth at a time, and only while
// less than that is queued for it: whatever the history's size, a joiner
// costs at most about two chunks of memory for it (queue_limit bounds the
// rest).
constexpr std::size_t kHistoryChunk = kMaxFramePayload;
// History reads per joiner per round of the event loop, so a joiner on a
// fast socket cannot keep the loop from the session's own I/O.
constexpr int kMaxHistoryReadsPerRound = 16;

std::string Who(const Peer& peer) {
  return "pid " + std::to_string(peer.pid) + " uid " + std::to_string(peer.uid);
}

struct Client {
  std::uint64_t id = 0;
  UniqueFd fd;
  UniqueFd timer;  // fires at the hello deadline; closed once attached
  Peer peer;
  bool attached = false;
  std::string user;
  JoinMode mode = JoinMode::kObserver;
  FrameDecoder decoder{FrameDirection::kToRecorder};
  std::string queue;  // frames not yet written to fd, from queue_sent on
  std::size_t queue_sent = 0;
  // Until live, the joiner is streamed the history from `offset` (output
  // printed meanwhile reaches it that way, in order), and notices wait in
  // `deferred` so that they follow the history they came after.
  bool live = false;
  std::uint64_t offset = 0;
  bool skip_to_line = false;  // HistoryStart::skip_to_line, until done
  std::string deferred;
  // Set when the client must go; Reap() closes it and, if it was attached,
  // tells the others with leave_notice.
  bool doomed = false;
  std::string leave_notice;

  std::size_t queued() const { return queue.size() - queue_sent; }
  std::string Name() const { return attached ? user + " (" + Who(peer) + ")" : Who(peer); }
};

UniqueFd HelloTimer(std::chrono::milliseconds timeout) {
  UniqueFd timer(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!timer.valid()) return timer;
  const auto ns = std::max<std::int64_t>(
      1, std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count());
  itimerspec spec{};
  spec.it_value.tv_sec = static_cast<time_t>(ns / 1000000000);
  spec.it_value.tv_nsec = static_cast<long>(ns % 1000000000);
  if (::timerfd_settime(timer.get(), 0, &spec, nullptr) != 0) timer.Reset();
  return timer;
}

class JoinHubImpl final : public JoinHub {
 public:
  JoinHubImpl(UnixListener listener, SessionSummary session, JoinAuthorizer authorize,
              JoinCallbacks callbacks, const JoinHubOptions& options)
      : listener_(std::move(listener)),
        session_(std::move(session)),
        authorize_(std::move(authorize)),
        callbacks_(std::move(callbacks)),
        options_(options),
        history_(JoinHistoryOptions{options.replay_bytes, options.history_dir,
                                    session_.session_id + ".join-history", options.history_bytes,
                                    options.env}),
        read_buf_(kReadChunk) {}

  ~JoinHubImpl() override {
    if (!ended_) {
      clients_.clear();
      listener_.fd.Reset();
      RemoveListenerFile(listener_);
    }
  }

  void AppendPollFds(std::vector<pollfd>& fds) const override {
    polled_.clear();
    if (ended_) return;
    Add(fds, Entry::kListener, 0, listener_.fd.get(), POLLIN);
    for (const auto& c : clients_) {
      if (c->doomed) continue;
      Add(fds, Entry::kClient, c->id, c->fd.get(),
          static_cast<short>(POLLIN | (c->queued() > 0 || CatchingUp(*c) ? POLLOUT : 0)));
      if (!c->attached && c->timer.valid()) Add(fds, Entry::kTimer, c->id, c->timer.get(), POLLIN);
    }
  }

  void HandlePoll(const std::vector<pollfd>& fds, std::size_t first) override {
    if (ended_) return;
    const std::vector<Entry> entries = std::move(polled_);
    polled_.clear();
    for (std::size_t i = 0; i < entries.size() && first + i < fds.size(); ++i) {
      const pollfd& p = fds[first + i];
      const Entry& e = entries[i];
      if (p.fd != e.fd || p.revents == 0) continue;
      if (e.kind == Entry::kListener) {
        AcceptAll();
        continue;
      }
      Client* c = Find(e.client);
      if (c == nullptr || c->doomed) continue;
      if (e.kind == Entry::kTimer) {
        if (!c->attached) {
          log::Warning("join: " + Who(c->peer) + " sent no hello within " +
                       std::to_string(options_.hello_timeout.count()) + " ms; disconnected");
          Doom(*c, "");
        }
        continue;
      }
      if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) ReadFrom(*c);
      if (!c->doomed && (p.revents & POLLOUT) != 0 && Flush(*c)) CatchUp(*c);
    }
    Reap();
  }

  void Output(std::string_view bytes) override {
    if (ended_ || bytes.empty()) return;
    history_.Append(bytes);
    if (joiners() == 0) return;
    std::string frames;
    for (const auto& c : clients_) {
      if (!c->attached || CatchingUp(*c)) continue;
      if (frames.empty()) AppendFrames(frames, FrameType::kOutput, bytes);
      Queue(*c, frames);
    }
    Reap();
  }

  void End(std::string_view exit_json) override {
    if (ended_) return;
    Reap();
    ended_ = true;
    polled_.clear();
    std::string frame;
    AppendFrame(frame, FrameType::kEnd, exit_json.substr(0, kMaxFramePayload));
    for (const auto& c : clients_) {
      if (c->attached) Queue(*c, frame);
    }
    FlushBeforeClose();
    // No "j" leave events here: the recorder writes the "x" event first, and
    // nothing may follow it but the last checkpoint. The end of the session
    // ends every join.
    for (const auto& c : clients_) {
      if (!c->attached) continue;
      log::Info("join: " + c->Name() + " left session " + session_.session_id +
                " (the session ended)");
    }
    clients_.clear();
    listener_.fd.Reset();
    RemoveListenerFile(listener_);
  }

  std::size_t joiners() const override {
    return static_cast<std::size_t>(std::count_if(
        clients_.begin(), clients_.end(), [](const auto& c) { return c->attached && !c->doomed; }));
  }

 private:
  struct Entry {
    enum Kind { kListener, kClient, kTimer } kind;
    std::uint64_t client;
    int fd;
  };

  void Add(std::vector<pollfd>& fds, Entry::Kind kind, std::uint64_t id, int fd,
           short events) const {
    fds.push_back(pollfd{fd, events, 0});
    polled_.push_back(Entry{kind, id, fd});
  }

  Client* Find(std::uint64_t id) {
    for (const auto& c : clients_) {
      if (c->id == id) return c.get();
    }
    return nullptr;
  }

  void AcceptAll() {
    for (int i = 0; i < kMaxAcceptsPerPoll; ++i) {
      UniqueFd fd(::accept4(listener_.fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!fd.valid()) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          log::Warning(std::string("join: accept on ") + listener_.path +
                       " failed: " + std::strerror(errno));
        }
        return;
      }
      ucred cred{};
      socklen_t len = sizeof(cred);
      if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
          len != sizeof(cred)) {
        log::Warning(std::string("join: cannot identify a connecting process: ") +
                     std::strerror(errno));
        continue;
      }
      const Peer peer{cred.pid, cred.uid};
      if (clients_.size() >= options_.max_clients) {
        log::Warning("join: " + Who(peer) + " refused: already " + std::to_string(clients_.size()) +
                     " connections to session " + session_.session_id);
        std::string refusal;
        AppendFrame(refusal, FrameType::kRefuse, "too many joiners; try again later");
        // Best effort: the socket buffer of a fresh connection takes it.
        (void)::send(fd.get(), refusal.data(), refusal.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        continue;
      }
      auto c = std::make_unique<Client>();
      c->timer = HelloTimer(options_.hello_timeout);
      if (!c->timer.valid()) {
        log::Warning(std::string("join: cannot create a timer: ") + std::strerror(errno));
        continue;
      }
      c->id = next_id_++;
      c->fd = std::move(fd);
      c->peer = peer;
      log::Debug("join: connection from " + Who(peer) + " to session " + session_.session_id);
      clients_.push_back(std::move(c));
    }
  }

  void ReadFrom(Client& c) {
    const ssize_t n = ::recv(c.fd.get(), read_buf_.data(), read_buf_.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) return;
      log::Warning("join: reading from " + c.Name() + ": " + std::strerror(errno));
      Doom(c, c.user + " left");
      return;
    }
    if (n == 0) {
      if (c.decoder.pending() > 0) {
        log::Warning("join: " + c.Name() + " closed the connection inside a frame (" +
                     std::to_string(c.decoder.pending()) + " bytes of it)");
      } else if (!c.attached) {
        log::Warning("join: " + Who(c.peer) + " disconnected before its hello");
      }
      Doom(c, c.user + " left");
      return;
    }
    c.decoder.Feed(std::string_view(read_buf_.data(), static_cast<std::size_t>(n)));
    while (!c.doomed) {
      auto frame = c.decoder.Next();
      if (!frame) {
        log::Warning("join: protocol error from " + c.Name() + ": " + frame.error().message() +
                     "; disconnected");
        Doom(c, c.user + " was disconnected (protocol error)");
        return;
      }
      if (!frame->has_value()) return;
      HandleFrame(c, **frame);
    }
  }

  void HandleFrame(Client& c, const Frame& frame) {
    if (!c.attached) {
      if (frame.type != FrameType::kHello) {
        log::Warning("join: " + Who(c.peer) + " sent a frame before its hello; disconnected");
        Doom(c, "");
        return;
      }
      auto mode = ParseHello(frame.payload);
      if (!mode) {
        log::Warning("join: malformed hello from " + Who(c.peer) + ": " + mode.error().message());
        Refuse(c, "malformed hello: " + mode.error().message());
        return;
      }
      Attach(c, *mode);
      return;
    }
    if (frame.type != FrameType::kInput) {
      log::Warning("join: " + c.Name() + " sent a second hello; disconnected");
      Doom(c, c.user + " was disconnected (protocol error)");
      return;
    }
    // Observers' keystrokes go nowhere: only peers may type.
    if (c.mode == JoinMode::kPeer && callbacks_.input) callbacks_.input(frame.payload);
  }

  void Attach(Client& c, JoinMode mode) {
    Result<std::string> user =
        authorize_ ? authorize_(c.peer) : Err(PermissionDenied("live join is not enabled"));
    if (!user) {
      log::Warning("join: refused " + Who(c.peer) + " (" + std::string(JoinModeName(mode)) +
                   ") for session " + session_.session_id + ": " + user.error().ToString());
      Refuse(c, user.error().code() == Code::kPermissionDenied
                    ? user.error().message()
                    : "the recorder could not check whether you may join (see the node's log)");
      return;
    }
    c.timer.Reset();
    c.attached = true;
    c.user = *user;
    c.mode = mode;
    const HistoryStart start = history_.Start();
    c.offset = start.offset;
    c.skip_to_line = start.skip_to_line;
    Accept accept{session_.session_id, session_.user, session_.login, mode};
    std::string frames;
    AppendFrame(frames, FrameType::kAccept, AcceptJson(accept));
    // Never silently: a history that does not go back to the start says so
    // before it begins.
    if (!start.notice.empty()) AppendFrame(frames, FrameType::kNotice, start.notice);
    (void)Send(c, frames);  // a failure dooms c; Reap tells the others
    const std::string text = c.user + " joined as " + std::string(JoinModeName(mode));
    log::Info("join: " + c.Name() + " joined session " + session_.session_id + " as " +
              std::string(JoinModeName(mode)));
    Announce(text);
    Record(JoinEventJson(true, c.user, mode));
    CatchUp(c);
  }

  bool CatchingUp(const Client& c) const { return c.attached && !c.live; }

  // Streams the history to c from its offset while its socket takes it;
  // poll's POLLOUT brings it back for more. Live once it reached the end.
  void CatchUp(Client& c) {
    int reads = 0;
    while (CatchingUp(c) && !c.doomed && c.queued() < kHistoryChunk) {
      if (c.offset >= history_.end()) {
        GoLive(c);
        return;
      }
      if (reads++ == kMaxHistoryReadsPerRound) return;
      auto chunk = history_.Read(c.offset, kHistoryChunk);
      if (!chunk) {
        SkipAhead(c, chunk.error());
        continue;
      }
      c.offset += chunk->size();
      std::string_view bytes = *chunk;
      if (c.skip_to_line) {
        const std::size_t newline = bytes.find('\n');
        if (newline == std::string_view::npos) continue;
        bytes.remove_prefix(newline + 1);
        c.skip_to_line = false;
      }
      if (bytes.empty()) continue;
      std::string frames;
      AppendFrames(frames, FrameType::kOutput, bytes);
      if (!Send(c, frames)) return;
    }
  }

  // The history under c's offset is no longer kept (the session printed
  // more than the cap while c read, or the spool failed): c goes on from
  // where a joiner arriving now would start, and is told.
  void SkipAhead(Client& c, const Status& why) {
    const HistoryStart start = history_.Start();
    if (start.offset <= c.offset) {
      // Cannot happen (what Read refuses lies below Start()); never loop
      // or repeat output if it does.
      log::Error("join: history for " + c.Name() + " unreadable at byte " +
                 std::to_string(c.offset) + ": " + why.message() + "; disconnected");
      Doom(c, c.user + " was disconnected (history unavailable)");
      return;
    }
    log::Warning("join: " + c.Name() + " skips " + std::to_string(start.offset - c.offset) +
                 " bytes of the history of session " + session_.session_id + ": " + why.message());
    c.offset = start.offset;
    c.skip_to_line = start.skip_to_line;
    std::string frame;
    AppendFrame(frame, FrameType::kNotice,
                start.notice.empty() ? "part of the history is not shown" : start.notice);
    (void)Send(c, frame);
  }

  // c reached the end of the history: from now on it gets live output, and
  // the notices that waited for it.
  void GoLive(Client& c) {
    c.live = true;
    const std::string deferred = std::move(c.deferred);
    c.deferred.clear();
    if (!deferred.empty()) Queue(c, deferred);
  }

  void Refuse(Client& c, std::string_view reason) {
    std::string frame;
    AppendFrame(frame, FrameType::kRefuse, reason.substr(0, kMaxFramePayload));
    Queue(c, frame);
    Doom(c, "");
  }

  // Tells the session's owner and every joiner.
  void Announce(const std::string& text) {
    if (callbacks_.notice) callbacks_.notice("\r\n[gate] " + text + "\r\n");
    std::string frame;
    AppendFrame(frame, FrameType::kNotice, text);
    for (const auto& c : clients_) {
      if (c->attached) Queue(*c, frame);
    }
  }

  void Record(const std::string& json) {
    if (callbacks_.record) callbacks_.record(json);
  }

  // Live frames and notices for c: sent now, or after the history while c
  // is still catching up. Beyond queue_limit, c is dropped.
  void Queue(Client& c, std::string_view bytes) {
    if (c.doomed) return;
    if (CatchingUp(c)) {
      c.deferred.append(bytes);
    } else if (!Send(c, bytes)) {
      return;
    }
    // While catching up, the history in the queue is bounded by CatchUp;
    // what waits behind it is not.
    const std::size_t behind = CatchingUp(c) ? c.deferred.size() : c.queued();
    if (behind > options_.queue_limit) {
      log::Warning("join: " + c.Name() + " fell " + std::to_string(behind) +
                   " bytes behind session " + session_.session_id + "; disconnected");
      Doom(c, c.user + " was disconnected (too slow to keep up)");
    }
  }

  // Appends bytes to c's queue and writes what the socket takes. False if c
  // is (now) doomed.
  bool Send(Client& c, std::string_view bytes) {
    if (c.doomed) return false;
    const bool was_empty = c.queued() == 0;
    c.queue.append(bytes);
    // With output already waiting, the socket is full: poll says when it
    // drains, and trying now would only cost a failed syscall.
    return !was_empty || Flush(c);
  }

  // Writes what the socket takes without blocking. False (and the client
  // doomed) on a write error.
  bool Flush(Client& c) {
    while (c.queued() > 0) {
      const ssize_t n = ::send(c.fd.get(), c.queue.data() + c.queue_sent, c.queued(),
                               MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (!c.doomed) {
          if (errno != EPIPE && errno != ECONNRESET) {
            log::Warning("join: writing to " + c.Name() + ": " + std::strerror(errno));
          }
          Doom(c, c.user + " left");
        }
        return false;
      }
      c.queue_sent += static_cast<std::size_t>(n);
    }
    if (c.queued() == 0) {
      c.queue.clear();
      c.queue_sent = 0;
    } else if (c.queue_sent > kReadChunk) {
      c.queue.erase(0, c.queue_sent);
      c.queue_sent = 0;
    }
    return true;
  }

  void Doom(Client& c, std::string leave_notice) {
    if (c.doomed) return;
    c.doomed = true;
    c.leave_notice = std::move(leave_notice);
  }

  // Closes doomed clients. Telling the others may doom more of them (their
  // queue overflows), hence the loop instead of recursion.
  void Reap() {
    for (;;) {
      auto it =
          std::find_if(clients_.begin(), clients_.end(), [](const auto& c) { return c->doomed; });
      if (it == clients_.end()) return;
      std::unique_ptr<Client> c = std::move(*it);
      clients_.erase(it);
      // A refusal or notice still queued goes out if the socket takes it.
      (void)Flush(*c);
      if (!c->attached) continue;
      log::Info("join: " + c->Name() + " left session " + session_.session_id);
      Announce(c->leave_notice);
      Record(JoinEventJson(false, c->user, c->mode));
    }
  }

  // End(): the last frames get a short, bounded wait; then everyone is closed.
  void FlushBeforeClose() {
    const auto deadline = std::chrono::steady_clock::now() + options_.end_flush_timeout;
    for (;;) {
      std::vector<pollfd> fds;
      std::vector<Client*> waiting;
      for (const auto& c : clients_) {
        if (c->doomed || (c->queued() == 0 && !CatchingUp(*c))) continue;
        fds.push_back(pollfd{c->fd.get(), POLLOUT, 0});
        waiting.push_back(c.get());
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (fds.empty() || left.count() <= 0) break;
      const int rc = ::poll(fds.data(), fds.size(), static_cast<int>(left.count()));
      if (rc < 0 && errno != EINTR) break;
      for (std::size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].revents != 0 && Flush(*waiting[i])) CatchUp(*waiting[i]);
      }
    }
  }

  UnixListener listener_;
  SessionSummary session_;
  JoinAuthorizer authorize_;
  JoinCallbacks callbacks_;
  JoinHubOptions options_;
  JoinHistory history_;
  std::vector<std::unique_ptr<Client>> clients_;
  // What the last AppendPollFds added, entry for entry, for HandlePoll.
  mutable std::vector<Entry> polled_;
  std::uint64_t next_id_ = 1;
  bool ended_ = false;
  std::vector<char> read_buf_;
};

}  // namespace

Result<std::unique_ptr<JoinHub>> JoinHub::Listen(const std::string& socket_path,
                                                 SessionSummary session, JoinAuthorizer authorize,
                                                 JoinCallbacks callbacks) {
  return Listen(socket_path, std::move(session), std::move(authorize), std::move(callbacks),
                JoinHubOptions{});
}

Result<std::unique_ptr<JoinHub>> JoinHub::Listen(const std::string& socket_path,
                                                 SessionSummary session, JoinAuthorizer authorize,
                                                 JoinCallbacks callbacks,
                                                 const JoinHubOptions& options) {
  auto listener = ListenUnix(socket_path, 0666);
  if (!listener) return Err(listener.error());
  log::Info("join: session " + session.session_id + " accepts joiners on " + socket_path);
  return std::unique_ptr<JoinHub>(new JoinHubImpl(std::move(*listener), std::move(session),
                                                  std::move(authorize), std::move(callbacks),
                                                  options));
}

}  // namespace gate::recorder
