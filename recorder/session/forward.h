// Port forwarding through the recorder (docs/recording.md, "Port
// forwarding"). On a node that records sessions sshd forwards nothing
// itself (it would do so out of the recorder's sight); a user whose roles
// grant forwarding runs `ssh NODE gate-forward HOST PORT` instead of
// `ssh -W HOST:PORT NODE` (as a ProxyCommand, or behind a local listener
// for -L), and the recorder connects to HOST:PORT and relays the session's
// stdin and stdout to it. The recording, and so gate-ca's audit log, holds
// who, where to and the bytes each way, not the bytes themselves.
#ifndef GATE_RECORDER_SESSION_FORWARD_H_
#define GATE_RECORDER_SESSION_FORWARD_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "gate/status.h"
#include "gate/unique_fd.h"

namespace gate::recorder {

inline constexpr std::string_view kForwardCommand = "gate-forward";

struct ForwardTarget {
  std::string host;          // a DNS name or an IP address literal
  std::string port;          // decimal, 1-65535
  std::string Text() const;  // "host:port", "[v6]:port"
};

// Whether the command's first word is gate-forward (then it is a forward,
// well formed or not: it never runs as a command).
bool IsForwardCommand(std::string_view command);

// "gate-forward HOST PORT", words separated by one space: HOST made of
// letters, digits, '.', '-', '_' and ':' (IPv6), at most 253 characters,
// not starting with '-'; PORT a decimal number from 1 to 65535 without
// leading zeros. InvalidArgument saying what is wrong otherwise.
Result<ForwardTarget> ParseForwardCommand(std::string_view command);

// A TCP connection to the target: each address getaddrinfo gives, in its
// order, each attempt bounded by timeout. Unavailable naming the target and
// the last system error (or the resolver's) otherwise. The socket is
// non-blocking and close-on-exec; it belongs to the effective uid at the
// time of the call.
Result<UniqueFd> ConnectTo(const ForwardTarget& target, std::chrono::milliseconds timeout);

struct ForwardEnd {
  std::uint64_t bytes_in = 0;   // from the session's stdin to the target
  std::uint64_t bytes_out = 0;  // from the target to the session's stdout
  bool hung_up = false;         // SIGHUP or SIGTERM ended it
};

// Relays in -> socket and socket -> out until the target closes its side
// (its EOF is passed on by closing out) or fails, or a SIGHUP/SIGTERM
// arrives on signal_fd (from BlockSessionSignals). The session's EOF on in
// is passed on as shutdown(SHUT_WR); the relay then waits for the target.
// Never loses a byte it read: each chunk is written whole (poll on the
// writer) before the next is read.
ForwardEnd RelayForward(int in, int out, int socket, int signal_fd);

}  // namespace gate::recorder

#endif  // GATE_RECORDER_SESSION_FORWARD_H_
