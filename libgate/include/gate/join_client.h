// The joining side of the live-join protocol, as gate join runs it: send
// the hello, wait for the recorder's answer, then relay the session's output
// to the terminal and (for peers) the keystrokes back, until the session
// ends, the joiner presses the detach key, or the connection is lost.
// Terminal modes and signals are the caller's business (cli/gate/join.cc).
#ifndef GATE_JOIN_CLIENT_H_
#define GATE_JOIN_CLIENT_H_

#include <chrono>
#include <string>

#include "gate/join_protocol.h"
#include "gate/status.h"
#include "gate/unique_fd.h"

namespace gate::recorder {

// Ctrl-]: leaves the session in both modes and is never sent to it (as in
// telnet). Chosen because shells and editors rarely need it.
inline constexpr char kDetachKey = 0x1d;

struct RelayIo {
  int in = -1;    // keystrokes; -1 for none
  int out = -1;   // where output and notices are written
  int stop = -1;  // readable means: stop now (a signalfd); -1 for none
};

struct RelayEnd {
  enum class Kind {
    kEnded,     // the recorder sent E: text is DescribeEnd's
    kDetached,  // the detach key
    kStopped,   // io.stop became readable
    kLost,      // the connection closed or broke without E: text says how
  };
  Kind kind = Kind::kLost;
  std::string text;
};

class JoinClient {
 public:
  explicit JoinClient(UniqueFd socket) : socket_(std::move(socket)) {}

  // Sends the hello and waits at most `timeout` for the answer. The Accept
  // on A; PermissionDenied(the recorder's reason) on R; Unavailable if the
  // connection closes, times out or answers with anything else.
  Result<Accept> Hello(JoinMode mode, std::chrono::milliseconds timeout);

  // After a successful Hello: writes O frames to io.out as they arrive and
  // M frames as "\r\n[gate] <text>\r\n"; forwards what io.in delivers as I
  // frames if the mode is peer (observers' keystrokes are read and
  // discarded, so the detach key still works). End of io.in stops reading
  // it, not the relay.
  RelayEnd Relay(const RelayIo& io);

 private:
  UniqueFd socket_;
  FrameDecoder decoder_{FrameDirection::kToClient};
  JoinMode mode_ = JoinMode::kObserver;
};

// Connects to a session's join socket and says hello. NotFound ("no live
// session ID on this node (PATH)") if nothing listens there; otherwise the
// errors of ConnectUnix and JoinClient::Hello (PermissionDenied with the
// recorder's reason for a refusal).
struct Joined {
  JoinClient client;
  Accept accept;
};
Result<Joined> StartJoin(const std::string& socket_path, const std::string& session_id,
                         JoinMode mode);

// The joiner's side once accepted: prints the banner ("Joined session ID of
// USER (login L) as MODE. ... Press Ctrl-] to leave.") to err, turns
// SIGINT/SIGTERM/SIGHUP/SIGQUIT into a stop (blocked for the rest of the
// process), puts `in` in raw mode if it is a terminal (restored on every way
// out), relays until the end and prints how it ended. The exit status.
int RunAttached(JoinClient& client, const Accept& accept, JoinMode mode,
                const std::string& session_id, int in, int out, int err);

}  // namespace gate::recorder

#endif  // GATE_JOIN_CLIENT_H_
