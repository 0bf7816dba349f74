#include "recorder/session/event_loop.h"

#include <fcntl.h>
#include <json/json.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gate/log.h"
#include "recorder/session/child.h"
#include "recorder/session/pty.h"

namespace gate::recorder {
namespace {

constexpr std::size_t kChunk = 64 * 1024;
constexpr std::size_t kFlushBytes = 1 << 20;
// Keystrokes (the outer terminal's and peers') waiting for the pty: more
// than this is a flood, not typing, and the rest is dropped.
constexpr std::size_t kMaxInputQueue = 1 << 20;

// Rounds of drain_grace without progress after the child exited.
constexpr int kMaxIdleRounds = 50;

constexpr int kHandled[] = {SIGCHLD, SIGWINCH, SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGUSR1};
constexpr int kIgnored[] = {SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU};

// Writes as much of data as fd takes now. Returns the count written, or -1
// if fd failed for good (EPIPE, EIO: the other side is gone).
ssize_t WriteSome(int fd, std::string_view data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    return -1;
  }
  return static_cast<ssize_t>(done);
}

// What a pollfd entry stands for.
enum : int { kSignalTag = -1, kTimerTag = -2 };
struct Tag {
  int pipe;    // index into pipes_, or kSignalTag / kTimerTag
  bool write;  // POLLOUT on the pipe's `to`
};

}  // namespace

struct EventLoop::Pipe {
  enum class Record { kNothing, kOutput, kInput };
  int from = -1;                 // read end; -1 once closed or at EOF
  int to = -1;                   // write end; -1 once it failed
  bool input = false;            // keystrokes into the pty (else: session output)
  bool feeds_child = false;      // an exec session's stdin, into the child's pipe
  bool close_to_at_eof = false;  // an exec pipe: pass the EOF on
  Record record = Record::kNothing;
  std::uint64_t bytes = 0;  // read from `from`
  std::string queue;        // read but not yet written
};

Result<UniqueFd> BlockSessionSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kHandled) sigaddset(&set, sig);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) {
    return Err(Internal(std::string("sigprocmask: ") + std::strerror(errno)));
  }
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  for (int sig : kIgnored) (void)::sigaction(sig, &ign, nullptr);
  UniqueFd fd(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!fd.valid()) return Err(Internal(std::string("signalfd: ") + std::strerror(errno)));
  return fd;
}

Result<std::unique_ptr<EventLoop>> EventLoop::Create(LoopFds fds, LoopOptions options,
                                                     UniqueFd signal_fd, RecordingSink& sink) {
  if (options.child <= 0) return Err(InvalidArgument("no child"));
  UniqueFd timer(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!timer.valid()) return Err(Internal(std::string("timerfd: ") + std::strerror(errno)));
  for (int fd :
       {fds.master.get(), fds.child_stdin.get(), fds.child_stdout.get(), fds.child_stderr.get()}) {
    if (fd < 0) continue;
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
      return Err(Internal(std::string("fcntl: ") + std::strerror(errno)));
    }
  }
  return std::unique_ptr<EventLoop>(
      new EventLoop(std::move(fds), options, std::move(signal_fd), std::move(timer), sink));
}

EventLoop::EventLoop(LoopFds fds, LoopOptions options, UniqueFd signal_fd, UniqueFd timer_fd,
                     RecordingSink& sink)
    : fds_(std::move(fds)),
      options_(options),
      signal_fd_(std::move(signal_fd)),
      timer_fd_(std::move(timer_fd)),
      sink_(sink),
      buf_(new char[kChunk]) {
  if (fds_.master.valid()) {
    Pipe out;
    out.from = fds_.master.get();
    out.to = fds_.outer_out;
    out.record = Pipe::Record::kOutput;
    pipes_.push_back(std::move(out));
    Pipe in;
    in.from = fds_.outer_in;
    in.to = fds_.master.get();
    in.input = true;
    pipes_.push_back(std::move(in));
    if (fds_.winsize_from >= 0) (void)GetWindowSize(fds_.winsize_from, winsize_);
  }
  for (auto [from, to] : {std::pair{fds_.child_stdout.get(), fds_.outer_out},
                          std::pair{fds_.child_stderr.get(), fds_.outer_err}}) {
    if (from < 0) continue;
    Pipe out;
    out.from = from;
    out.to = to;
    out.close_to_at_eof = true;
    if (options_.record_exec_output) out.record = Pipe::Record::kOutput;
    pipes_.push_back(std::move(out));
  }
  if (fds_.child_stdin.valid()) {
    Pipe in;
    in.from = fds_.outer_in;
    in.to = fds_.child_stdin.get();
    in.feeds_child = true;
    in.close_to_at_eof = true;
    if (options_.record_exec_input) in.record = Pipe::Record::kInput;
    pipes_.push_back(std::move(in));
  }
  for (Pipe& p : pipes_) p.queue.reserve(kChunk);
}

EventLoop::~EventLoop() = default;

double EventLoop::Now() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - options_.start).count();
}

JoinCallbacks EventLoop::HubCallbacks() {
  JoinCallbacks cb;
  cb.input = [this](std::string_view bytes) {
    if (!fds_.master.valid() || pipes_.size() < 2 || pipes_[1].to < 0) return;
    Pipe& in = pipes_[1];
    if (in.queue.size() + bytes.size() > kMaxInputQueue || !recording_.ok()) return;
    if (options_.record_input && EchoEnabled(fds_.master.get())) {
      const double now = Now();
      sink_.Input(now, bytes);
      // Into the session only once recorded, as the owner's keystrokes.
      if (Status s = sink_.Flush(now); !s.ok()) {
        RecordingFailed(s);
        return;
      }
    }
    in.queue.append(bytes);
  };
  cb.notice = [this](std::string_view text) {
    if (!fds_.master.valid() || pipes_.empty() || pipes_[0].to < 0) return;
    pipes_[0].queue.append(text);  // the hub frames it with its own CR LFs
  };
  cb.record = [this](std::string_view json) {
    sink_.Join(Now(), json);
    MarkRecorded();
  };
  return cb;
}

void EventLoop::AttachHub(std::unique_ptr<JoinHub> hub) { hub_ = std::move(hub); }

void EventLoop::MarkRecorded() {
  // Under a flood, flush every kFlushBytes as well as on the timer: many
  // short flushes keep the pipeline moving where one 100 ms batch (~10 MiB
  // to hash, sign and write) would stall it, and bound the buffer.
  if (sink_.buffered_bytes() >= kFlushBytes) {
    if (Status s = sink_.Flush(Now()); !s.ok()) {
      RecordingFailed(s);
      return;
    }
  }
  if (timer_armed_) return;
  itimerspec spec{};
  const auto ms = options_.flush_interval.count();
  spec.it_value.tv_sec = static_cast<time_t>(ms / 1000);
  spec.it_value.tv_nsec = static_cast<long>((ms % 1000) * 1000000);
  if (::timerfd_settime(timer_fd_.get(), 0, &spec, nullptr) == 0) timer_armed_ = true;
}

void EventLoop::OnTimer() {
  std::uint64_t expirations = 0;
  if (::read(timer_fd_.get(), &expirations, sizeof(expirations)) < 0) return;
  timer_armed_ = false;
  if (!recording_.ok() || sink_.buffered_bytes() == 0) return;
  if (Status s = sink_.Flush(Now()); !s.ok()) RecordingFailed(s);
}

void EventLoop::RecordingFailed(const Status& s) {
  if (!recording_.ok()) return;
  recording_ = s;
  log::Error("recording failed, ending the session: " + s.ToString());
  if (fds_.master.valid() && !pipes_.empty() && pipes_[0].to >= 0) {
    const std::string note =
        "\r\ngate-record: the recording failed (" + s.message() + "); ending the session\r\n";
    (void)WriteSome(pipes_[0].to, note);
  } else if (!fds_.master.valid() && fds_.outer_err >= 0) {
    const std::string note =
        "gate-record: the recording failed (" + s.message() + "); ending the session\n";
    (void)WriteSome(fds_.outer_err, note);
  }
  // Fail closed: no unrecorded session goes on.
  CloseReaders();
}

void EventLoop::CloseMaster() {
  if (!fds_.master.valid()) return;
  const int master = fds_.master.get();
  for (Pipe& p : pipes_) {
    if (p.from == master) p.from = -1;
    if (p.to == master) {
      p.to = -1;
      p.queue.clear();
    }
    // Nothing to copy the outer terminal into any more.
    if (p.input) p.from = -1;
  }
  // The last close of a master hangs up its slave: the shell gets SIGHUP.
  fds_.master.Reset();
}

void EventLoop::CloseReaders() {
  CloseMaster();
  for (Pipe& p : pipes_) {
    p.from = -1;
    // The child's stdin too: it gets EOF, and nothing unrecorded reaches it.
    if (p.feeds_child) {
      p.to = -1;
      p.queue.clear();
    }
  }
  fds_.child_stdin.Reset();
  fds_.child_stdout.Reset();
  fds_.child_stderr.Reset();
}

void EventLoop::PassEof(Pipe& p) {
  // The source closed and all is written: so do we, so the other side sees
  // EOF (sshd: the channel's EOF; the child: end of its stdin).
  if (!p.close_to_at_eof || p.from >= 0 || p.to < 0 || !p.queue.empty()) return;
  if (p.to == fds_.child_stdin.get()) {
    fds_.child_stdin.Reset();
  } else if (p.to <= STDERR_FILENO) {
    // Keep 0-2 taken, so no later open lands on them.
    UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!null.valid() || ::dup2(null.get(), p.to) < 0) (void)::close(p.to);
  } else {
    (void)::close(p.to);
  }
  p.to = -1;
}

void EventLoop::WriteFailed(Pipe& p) {
  p.queue.clear();
  if (p.input) {
    CloseMaster();
  } else if (p.feeds_child) {
    // The child closed its stdin: stop reading the session's input.
    p.from = -1;
    p.to = -1;
    fds_.child_stdin.Reset();
  } else {
    p.to = -1;
    if (fds_.master.valid() && p.from == fds_.master.get()) Hangup();
  }
}

void EventLoop::Hangup() {
  hung_up_ = true;
  CloseMaster();
}

void EventLoop::Resize() {
  if (fds_.winsize_from < 0 || !fds_.master.valid()) return;
  winsize ws{};
  if (!GetWindowSize(fds_.winsize_from, ws)) return;
  if (ws.ws_col == winsize_.ws_col && ws.ws_row == winsize_.ws_row) return;
  winsize_ = ws;
  // The kernel sends SIGWINCH to the pty's foreground process group.
  if (!SetWindowSize(fds_.master.get(), ws).ok()) return;
  sink_.Resize(Now(), ws.ws_col, ws.ws_row);
  MarkRecorded();
}

void EventLoop::OnSignal() {
  signalfd_siginfo info[8];
  for (;;) {
    const ssize_t n = ::read(signal_fd_.get(), info, sizeof(info));
    if (n <= 0) return;
    for (std::size_t i = 0; i < static_cast<std::size_t>(n) / sizeof(info[0]); ++i) {
      switch (static_cast<int>(info[i].ssi_signo)) {
        case SIGCHLD: {
          // Signals coalesce: reap everything that has exited.
          int status = 0;
          pid_t pid;
          while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
            if (pid == options_.child) {
              child_done_ = true;
              wait_status_ = status;
            }
          }
          break;
        }
        case SIGWINCH:
          Resize();
          break;
        case SIGUSR1:
          Recheck(info[i].ssi_uid);
          break;
        case SIGHUP:
        case SIGTERM:
          log::Info(std::string("SIG") + sigabbrev_np(static_cast<int>(info[i].ssi_signo)) +
                    ": hanging up the session");
          Hangup();
          break;
        default:
          // SIGINT, SIGQUIT: in raw mode the terminal sends ^C as a byte to
          // the pty; a signal can only come from outside and must not end
          // the recording early.
          break;
      }
    }
  }
}

void EventLoop::Recheck(std::uint32_t sender_uid) {
  if (!options_.recheck || ended_by_) return;
  log::Info("re-checking the session against the policy cache (asked by uid " +
            std::to_string(sender_uid) + ")");
  std::optional<PolicyEnding> ending = options_.recheck();
  if (!ending) {
    log::Info("re-check: the session may go on");
    return;
  }
  log::Warning("ending the session: " + ending->cause + ": " + ending->notice);
  ended_by_ = std::move(ending);
  if (fds_.master.valid()) {
    const std::string note = "\r\ngate-record: " + ended_by_->notice + "; ending the session\r\n";
    // In the recording first, as all output: the replay shows why it ended.
    const double now = Now();
    if (recording_.ok()) {
      sink_.Output(now, note);
      if (Status s = sink_.Flush(now); !s.ok()) RecordingFailed(s);
    }
    // Straight to the outer terminal (behind anything still queued would
    // be after the hangup).
    if (!pipes_.empty() && pipes_[0].to >= 0) (void)WriteSome(pipes_[0].to, note);
    if (hub_) hub_->Output(note);
  } else if (fds_.outer_err >= 0) {
    const std::string note = "gate-record: " + ended_by_->notice + "; ending the session\n";
    (void)WriteSome(fds_.outer_err, note);
  }
  // As a hangup: the shell gets SIGHUP (pty) or EOF and EPIPE (pipes).
  hung_up_ = true;
  CloseReaders();
}

void EventLoop::OnReadable(Pipe& p) {
  // One read per poll round, written on at once: reading on until EAGAIN
  // to write bigger chunks measured slower in bench/recorder.py (the outer
  // terminal then waits while we read instead of draining in parallel).
  std::size_t len = 0;
  bool ended = false;
  const ssize_t n = ::read(p.from, buf_.get(), kChunk);
  if (n > 0) {
    len = static_cast<std::size_t>(n);
  } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
    ended = true;
  }
  const int from = p.from;
  if (len > 0) Relay(p, std::string_view(buf_.get(), len));
  // Relay may have closed the source already (a failed write).
  if (!ended || p.from != from) return;
  // EOF (a pipe), EIO (the pty's slave side is closed everywhere), or the
  // outer terminal went away.
  if (p.input) {
    Hangup();
  } else if (p.from == fds_.master.get()) {
    CloseMaster();
  } else {
    p.from = -1;
    PassEof(p);
  }
}

void EventLoop::Relay(Pipe& p, std::string_view data) {
  const double now = Now();
  p.bytes += data.size();
  // Whether typed input may be recorded is decided before it reaches the
  // program: once written, the program can read it and turn echo off (or
  // on, after a password prompt) before we look, and the bytes would be
  // judged by the wrong state.
  const bool record = p.input ? options_.record_input && EchoEnabled(fds_.master.get())
                              : p.record != Pipe::Record::kNothing;
  if (record) {
    if (!recording_.ok()) return;
    if (p.input || p.record == Pipe::Record::kInput) {
      sink_.Input(now, data);
    } else {
      sink_.Output(now, data);
    }
    // Recorded first, passed on after: what the recording cannot take
    // (a full spool) never reaches the user or the program. One flush per
    // read, each a hash and an Ed25519 signature (~25 us plus ~0.5 ms per
    // MiB, gate/asciicast.h).
    if (Status s = sink_.Flush(now); !s.ok()) {
      RecordingFailed(s);
      return;
    }
  }
  if (hub_ && !p.input && fds_.master.valid() && p.from == fds_.master.get()) hub_->Output(data);
  if (p.to < 0) return;
  if (!p.queue.empty()) {
    p.queue.append(data);
    return;
  }
  const ssize_t written = WriteSome(p.to, data);
  if (written < 0) {
    WriteFailed(p);
    return;
  }
  p.queue.append(data.substr(static_cast<std::size_t>(written)));
}

void EventLoop::OnWritable(Pipe& p) {
  if (p.to < 0 || p.queue.empty()) return;
  const ssize_t written = WriteSome(p.to, p.queue);
  if (written < 0) {
    WriteFailed(p);
    return;
  }
  p.queue.erase(0, static_cast<std::size_t>(written));
  PassEof(p);
}

bool EventLoop::Drained() const {
  for (const Pipe& p : pipes_) {
    if (p.input || p.feeds_child) continue;
    if (p.from >= 0) return false;
    if (p.to >= 0 && !p.queue.empty()) return false;
  }
  return true;
}

SessionEnd EventLoop::Run() {
  std::vector<Tag> tags;
  int idle_rounds = 0;
  while (!(child_done_ && Drained())) {
    pollfds_.clear();
    tags.clear();
    pollfds_.push_back({signal_fd_.get(), POLLIN, 0});
    tags.push_back({kSignalTag, false});
    pollfds_.push_back({timer_fd_.get(), POLLIN, 0});
    tags.push_back({kTimerTag, false});
    for (std::size_t i = 0; i < pipes_.size(); ++i) {
      Pipe& p = pipes_[i];
      // Read only once the previous chunk is written (output), or while the
      // queue has room (keystrokes).
      const bool room = p.input ? p.queue.size() < kChunk : p.queue.empty();
      if (p.from >= 0 && room) {
        pollfds_.push_back({p.from, POLLIN, 0});
        tags.push_back({static_cast<int>(i), false});
      }
      if (p.to >= 0 && !p.queue.empty()) {
        pollfds_.push_back({p.to, POLLOUT, 0});
        tags.push_back({static_cast<int>(i), true});
      }
    }
    const std::size_t hub_first = pollfds_.size();
    if (hub_) hub_->AppendPollFds(pollfds_);

    const int timeout = child_done_ ? static_cast<int>(options_.drain_grace.count()) : -1;
    const int ready = ::poll(pollfds_.data(), pollfds_.size(), timeout);
    if (ready < 0) {
      if (errno == EINTR) continue;
      log::Error(std::string("poll: ") + std::strerror(errno));
      CloseReaders();
      if (!child_done_) {
        // Without poll there is no loop: wait for the child and finish.
        if (::waitpid(options_.child, &wait_status_, 0) == options_.child) child_done_ = true;
      }
      for (Pipe& p : pipes_) p.queue.clear();
      break;
    }
    if (ready == 0) {
      // The child is gone and nothing came for drain_grace: whatever still
      // holds the pty or pipes is not the session. Output the outer side
      // has not taken after kMaxIdleRounds more is dropped (it is in the
      // recording): a stalled client must not keep the recorder forever.
      CloseReaders();
      if (++idle_rounds >= kMaxIdleRounds) {
        for (Pipe& p : pipes_) p.queue.clear();
      }
      continue;
    }
    idle_rounds = 0;
    for (std::size_t k = 0; k < hub_first; ++k) {
      if (pollfds_[k].revents == 0) continue;
      const Tag tag = tags[k];
      if (tag.pipe == kSignalTag) {
        OnSignal();
      } else if (tag.pipe == kTimerTag) {
        OnTimer();
      } else {
        Pipe& p = pipes_[static_cast<std::size_t>(tag.pipe)];
        // A descriptor closed by an earlier entry of this round is skipped.
        if (tag.write) {
          if (p.to == pollfds_[k].fd) OnWritable(p);
        } else if (p.from == pollfds_[k].fd) {
          OnReadable(p);
        }
      }
    }
    if (hub_) hub_->HandlePoll(pollfds_, hub_first);
  }

  SessionEnd end;
  end.wait_status = wait_status_;
  end.exit_code = ExitCodeOf(wait_status_);
  end.exit_json = ExitJson(wait_status_);
  end.hung_up = hung_up_;
  for (const Pipe& p : pipes_) {
    if (p.input || p.feeds_child) {
      end.bytes_in += p.bytes;
    } else {
      end.bytes_out += p.bytes;
    }
  }
  end.ended_by = ended_by_;
  if (ended_by_) {
    // The audit line gate-ca writes at session.end carries the "x" data.
    end.exit_json.pop_back();  // the closing '}'
    end.exit_json += ",\"ended_by\":" + Json::valueToQuotedString(ended_by_->cause.c_str()) +
                     ",\"reason\":" + Json::valueToQuotedString(ended_by_->notice.c_str()) + "}";
  }
  if (options_.count_bytes) {
    end.exit_json.pop_back();  // the closing '}'
    if (!options_.exit_note.empty()) end.exit_json += "," + options_.exit_note;
    end.exit_json += ",\"bytes_in\":" + std::to_string(end.bytes_in) +
                     ",\"bytes_out\":" + std::to_string(end.bytes_out) + "}";
  }
  const double t = Now();
  sink_.Exit(t, end.exit_json);
  if (hub_) hub_->End(end.exit_json);
  Status closed = sink_.Close(t);
  end.recording = recording_.ok() ? closed : recording_;
  return end;
}

}  // namespace gate::recorder
