#include "ca-server/web/terminal_bridge.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <thread>
#include <utility>

#include "ca-server/web/ssh_terminal.h"
#include "gate/log.h"

namespace gate::ca::web {
namespace {

using Clock = std::chrono::steady_clock;

// Input queued for the node beyond which the browser's connection is not
// read until the node takes some (a paste into a program that reads
// nothing must not grow gate-ca's memory).
constexpr std::size_t kMaxInboxBytes = 1 << 20;
// Keystrokes taken from the inbox but not yet written to the channel.
constexpr std::size_t kMaxPendingInput = 64 * 1024;

bool IsRefusal(Code code) {
  return code == Code::kPermissionDenied || code == Code::kFailedPrecondition ||
         code == Code::kUnauthenticated || code == Code::kResourceExhausted ||
         code == Code::kNotFound || code == Code::kInvalidArgument;
}

std::chrono::milliseconds Until(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return std::max(left, std::chrono::milliseconds(0));
}

}  // namespace

Result<std::shared_ptr<TerminalBridge>> TerminalBridge::Create(BridgeTarget target,
                                                               BridgeDeps deps) {
  UniqueFd wake(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake.valid()) return Err(Internal(std::string("eventfd: ") + std::strerror(errno)));
  return std::shared_ptr<TerminalBridge>(
      new TerminalBridge(std::move(target), std::move(deps), std::move(wake)));
}

TerminalBridge::TerminalBridge(BridgeTarget target, BridgeDeps deps, UniqueFd wake)
    : target_(std::move(target)), deps_(std::move(deps)), wake_(std::move(wake)) {}

TerminalBridge::~TerminalBridge() = default;

Status TerminalBridge::Start() {
  try {
    std::thread([self = shared_from_this()] { self->Run(); }).detach();
  } catch (const std::exception& e) {
    deps_.on_end();
    return Internal(std::string("cannot start a terminal thread: ") + e.what());
  }
  return Status::Ok();
}

void TerminalBridge::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  Wake();
}

void TerminalBridge::OnOpen(std::shared_ptr<WebSocketPeer> peer) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    peer_ = std::move(peer);
  }
  Wake();
}

bool TerminalBridge::OnMessage(bool text, std::string data) {
  bool more = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    inbox_bytes_ += data.size();
    inbox_.push_back({text, std::move(data)});
    if (inbox_bytes_ >= kMaxInboxBytes) {
      reading_paused_ = true;
      more = false;
    }
  }
  Wake();
  return more;
}

void TerminalBridge::OnClosed() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    browser_gone_ = true;
  }
  Wake();
}

void TerminalBridge::Wake() {
  const std::uint64_t one = 1;
  // EAGAIN: the counter is already non-zero, so the thread will wake anyway.
  (void)!::write(wake_.get(), &one, sizeof(one));
}

std::shared_ptr<WebSocketPeer> TerminalBridge::peer() {
  std::lock_guard<std::mutex> lock(mu_);
  return peer_;
}

short TerminalBridge::WaitFor(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{wake_.get(), POLLIN, 0}, {fd, events, 0}};
  const int n = ::poll(fds, fd >= 0 ? 2 : 1, static_cast<int>(timeout.count()));
  if (n > 0 && (fds[0].revents & POLLIN) != 0) {
    std::uint64_t count = 0;
    (void)!::read(wake_.get(), &count, sizeof(count));
  }
  return n > 0 && fd >= 0 ? fds[1].revents : 0;
}

TerminalBridge::Taken TerminalBridge::Take(std::size_t max_binary_bytes) {
  Taken out;
  bool resume = false;
  std::shared_ptr<WebSocketPeer> peer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::size_t taken = 0;
    while (!inbox_.empty()) {
      Incoming& next = inbox_.front();
      if (!next.text && taken + next.data.size() > max_binary_bytes && taken > 0) break;
      if (!next.text && next.data.size() > max_binary_bytes) break;
      if (!next.text) taken += next.data.size();
      inbox_bytes_ -= next.data.size();
      out.messages.push_back(std::move(next));
      inbox_.pop_front();
    }
    if (reading_paused_ && inbox_bytes_ < kMaxInboxBytes / 2) {
      reading_paused_ = false;
      resume = true;
      peer = peer_;
    }
    out.browser_gone = browser_gone_;
    out.stop = stop_;
  }
  if (resume && peer) peer->ResumeReading();
  return out;
}

void TerminalBridge::Audit(bool success, const std::string& detail) {
  const BridgeTarget& t = target_;
  std::string what =
      t.join ? "session " + t.session_id + " as " + t.mode + " on node " + t.node.hostname +
                   " (login " + t.login + ")"
             : "node " + t.node.hostname + " (" + t.node.host_uuid + ") login " + t.login;
  if (!detail.empty()) what += ": " + detail;
  deps_.audit.Record({deps_.now(), t.join ? "user.web_join" : "user.web_terminal", t.user.name,
                      t.source, success, std::move(what)});
}

void TerminalBridge::Fail(const Status& status) {
  // 5xx-like failures keep their details in the log, as HTTP replies do.
  const bool refusal = IsRefusal(status.code());
  const std::string message = status.message();
  Audit(false, message);
  if (!refusal) log::Warning("web terminal of " + target_.user.name + ": " + message);
  if (auto p = peer()) {
    p->Close(refusal ? kClosePolicy : kCloseError, refusal ? "refused" : "failed",
             ErrorMessage(message));
  }
}

bool TerminalBridge::AwaitStart(TerminalSize* size) {
  const Clock::time_point deadline = Clock::now() + kStartTimeout;
  for (;;) {
    Taken taken = Take(kMaxInboxBytes);
    if (taken.stop || taken.browser_gone) return false;
    if (!taken.messages.empty()) {
      const Incoming& first = taken.messages.front();
      auto start = first.text ? ParseStartMessage(first.data)
                              : Result<StartMessage>(Err(InvalidArgument("binary")));
      if (!start || !WebSessions::CsrfMatches(target_.web_session, start->csrf_token.view())) {
        Audit(false, std::string(kBadCsrfToken));
        if (auto p = peer()) p->Close(kClosePolicy, std::string(kBadCsrfToken));
        return false;
      }
      // Anything sent with the start message before the terminal is open
      // is dropped: the browser waits for "ready" before sending input.
      *size = start->size;
      return true;
    }
    const auto left = Until(deadline);
    if (left.count() == 0) {
      Audit(false, "no start message within " + std::to_string(kStartTimeout.count()) + " s");
      if (auto p = peer()) p->Close(kClosePolicy, std::string(kBadCsrfToken));
      return false;
    }
    WaitFor(-1, 0, left);
  }
}

void TerminalBridge::Run() {
  TerminalSize size;
  if (AwaitStart(&size)) {
    const BridgeTarget& t = target_;
    SshTerminalOptions options;
    options.host = t.ssh_host;
    options.port = t.ssh_port;
    options.node_name = t.node.hostname;
    options.host_key = t.host_key;
    options.login = t.login;
    if (t.join) options.command = "gate join --mode " + t.mode + " " + t.session_id;
    options.size = size;
    Status status = deps_.sessions.Recheck(t.web_session.id_hash, true).has_value()
                        ? Status::Ok()
                        : Unauthenticated("your web session has ended; log in again");
    std::unique_ptr<SshTerminal> terminal;
    if (status.ok()) {
      auto made = SshTerminal::Create(std::move(options));
      if (made) {
        terminal = *std::move(made);
      } else {
        status = made.error();
      }
    }
    if (status.ok()) {
      auto cert = deps_.issuer.IssueUserCertificate(t.user, terminal->public_key(), kCertificateTtl,
                                                    deps_.now(), t.source, {t.login});
      status = cert ? terminal->Open(cert->certificate) : cert.error();
    }
    if (!status.ok()) {
      Fail(status);
    } else {
      Audit(true, "");
      if (auto p = peer()) {
        p->Send(true, ReadyMessage(t.node.hostname, t.login, t.join ? t.session_id : ""));
      }
      Relay(*terminal);
    }
    terminal.reset();  // ends the SSH session before the cap is given back
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    peer_.reset();
  }
  deps_.on_end();
}

void TerminalBridge::Relay(SshTerminal& terminal) {
  std::string pending;  // keystrokes the channel has not taken yet
  bool active = false;  // traffic since the last recheck
  Clock::time_point next_recheck = Clock::now() + kRecheckInterval;
  for (;;) {
    Taken taken = Take(pending.size() < kMaxPendingInput ? kMaxPendingInput - pending.size() : 0);
    if (taken.browser_gone || taken.stop) {
      if (taken.stop) {
        if (auto p = peer()) p->Close(kCloseError, "gate-ca is stopping");
      }
      return;
    }
    for (Incoming& m : taken.messages) {
      active = true;
      if (!m.text) {
        pending += m.data;
        continue;
      }
      auto resize = ParseResizeMessage(m.data);
      Status status = resize ? terminal.Resize(resize->size) : resize.error();
      if (!status.ok()) {
        if (!resize) status = InvalidArgument("unexpected message: " + status.message());
        return Fail(status);
      }
    }
    if (!pending.empty()) {
      std::size_t written = 0;
      if (Status s = terminal.Write(pending, &written); !s.ok()) return Fail(s);
      pending.erase(0, written);
    }
    bool overflow = false;
    std::shared_ptr<WebSocketPeer> p = peer();
    Status pumped = terminal.Pump([&](std::string_view out) {
      active = true;
      if (p && !p->Send(false, std::string(out))) {
        overflow = true;
        return false;
      }
      return true;
    });
    if (overflow) {
      // Send also fails for a connection that is closing; the browser's own
      // close is noticed on the next turn.
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (browser_gone_) return;
      }
      const std::string message =
          "the browser did not read the terminal's output (over 1 MiB queued); disconnected";
      Audit(false, message);
      p->Close(kClosePolicy, "output not read", ErrorMessage(message), /*discard_queued=*/true);
      return;
    }
    if (!pumped.ok()) return Fail(pumped);
    if (terminal.Ended()) {
      if (p) {
        p->Send(true, EndMessage(terminal.exit_status(), terminal.exit_signal()));
        p->Close(kCloseNormal, "session ended");
      }
      return;
    }
    if (Clock::now() >= next_recheck) {
      auto session = deps_.sessions.Recheck(target_.web_session.id_hash, active);
      if (!session) {
        return Fail(session.error().code() == Code::kUnauthenticated
                        ? Unauthenticated("your web session has ended (logged out, expired or "
                                          "locked)")
                        : session.error());
      }
      active = false;
      next_recheck = Clock::now() + kRecheckInterval;
    }
    short events = POLLIN;
    if (terminal.WantsWrite()) events |= POLLOUT;
    WaitFor(terminal.fd(), events, Until(next_recheck) + std::chrono::milliseconds(1));
  }
}

}  // namespace gate::ca::web
