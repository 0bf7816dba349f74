// One browser terminal or live join: the WebSocket (websocket.h) on one
// side, an SSH session to the node (ssh_terminal.h) on the other, and a
// thread of its own between them (docs/api.md, "Browser terminal and live
// join").
//
// The thread, in order: waits up to kStartTimeout for the browser's first
// message, which must be a start message carrying the web session's CSRF
// token (else close 1008 "bad CSRF token": no certificate, no connection);
// makes a key, has the signer certify it for the one login (ttl
// kCertificateTtl), connects to the node (host key pinned), sends "ready",
// then moves keystrokes and resizes to the node and output to the browser
// until either side ends. Every kRecheckInterval it checks the web session
// again (WebSessions::Recheck): logout, expiry, idle timeout or a lock of the
// user ends the bridge; traffic in either direction keeps the session from
// idling out.
//
// All libssh calls happen on the bridge's thread (a libssh session is not
// thread-safe); the WebSocket's I/O threads only queue input and wake it
// through an eventfd, so a keystroke waits for no timer.
#ifndef GATE_CA_WEB_TERMINAL_BRIDGE_H_
#define GATE_CA_WEB_TERMINAL_BRIDGE_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "ca-server/api/websocket.h"
#include "ca-server/audit/audit.h"
#include "ca-server/auth/web_sessions.h"
#include "ca-server/issuer/issuer.h"
#include "ca-server/store/store.h"
#include "ca-server/web/terminal_protocol.h"
#include "gate/ed25519.h"
#include "gate/unique_fd.h"

namespace gate::ca::web {

class SshTerminal;

inline constexpr std::chrono::seconds kStartTimeout{10};
inline constexpr std::chrono::seconds kCertificateTtl{120};
inline constexpr std::chrono::seconds kRecheckInterval{2};
inline constexpr std::string_view kBadCsrfToken = "bad CSRF token";

// Where a bridge goes, decided at upgrade (web_terminals.h).
struct BridgeTarget {
  bool join = false;  // a live join (else a terminal with the login shell)
  UserRecord user;
  WebSessionRecord web_session;  // its id_hash and csrf_hash
  NodeRecord node;
  std::string ssh_host;
  std::uint16_t ssh_port = 22;
  ssh::Ed25519PublicKey host_key;
  std::string login;
  std::string session_id;  // join: the joined session
  std::string mode;        // join: "observer" or "peer"
  std::string source;      // the browser's address
};

struct BridgeDeps {
  Issuer& issuer;
  AuditLog& audit;
  WebSessions& sessions;
  std::function<std::int64_t()> now;
  // Called once, last, on the bridge's thread, when it ends (or at once
  // if the thread cannot start): gives back its place in the caps.
  std::function<void()> on_end;
};

class TerminalBridge : public WebSocketHandler,
                       public std::enable_shared_from_this<TerminalBridge> {
 public:
  // Internal if the wakeup eventfd cannot be made.
  static Result<std::shared_ptr<TerminalBridge>> Create(BridgeTarget target, BridgeDeps deps);
  ~TerminalBridge() override;

  // Starts the thread (detached; deps.on_end tells when it is done). On
  // failure calls on_end itself and returns Internal.
  Status Start();
  // Makes the bridge end soon, from any thread (gate-ca is stopping).
  void Stop();

  void OnOpen(std::shared_ptr<WebSocketPeer> peer) override;
  bool OnMessage(bool text, std::string data) override;
  void OnClosed() override;

 private:
  struct Incoming {
    bool text = false;
    std::string data;
  };
  // What the thread found when it looked at the inbox.
  struct Taken {
    std::deque<Incoming> messages;
    bool browser_gone = false;
    bool stop = false;
  };

  TerminalBridge(BridgeTarget target, BridgeDeps deps, UniqueFd wake);
  void Run();
  // The steps of Run; each returns false when the bridge is over (having
  // closed the WebSocket and audited why, as the case needs).
  bool AwaitStart(TerminalSize* size);
  void Relay(SshTerminal& terminal);
  // Ends the bridge for status (a failure after the start message): audits
  // it, tells the browser, closes 1008 for refusals and 1011 for failures.
  void Fail(const Status& status);
  void Audit(bool success, const std::string& detail);
  // Waits up to timeout for the eventfd or fd (with events; -1: none).
  // Returns poll()'s revents of fd.
  short WaitFor(int fd, short events, std::chrono::milliseconds timeout);
  Taken Take(std::size_t max_binary_bytes);
  void Wake();
  std::shared_ptr<WebSocketPeer> peer();

  const BridgeTarget target_;
  BridgeDeps deps_;
  UniqueFd wake_;  // eventfd: input arrived, the browser left, or Stop

  std::mutex mu_;
  std::shared_ptr<WebSocketPeer> peer_;  // guarded by mu_; set by OnOpen
  std::deque<Incoming> inbox_;           // guarded by mu_
  std::size_t inbox_bytes_ = 0;          // guarded by mu_
  bool reading_paused_ = false;          // guarded by mu_
  bool browser_gone_ = false;            // guarded by mu_
  bool stop_ = false;                    // guarded by mu_
};

}  // namespace gate::ca::web

#endif  // GATE_CA_WEB_TERMINAL_BRIDGE_H_
