// WebSocket connections on gate-ca's HTTPS listener (RFC 6455, wss only):
// the interface between the transport (http_server.cc, Boost.Beast) and what
// serves a connection (ca-server/web/). Like http_types.h it knows nothing
// about sockets or Beast.
//
// An upgrade request (GET with "Upgrade: websocket") goes to an
// UpgradeHandler on a worker thread. It answers with a plain HTTP refusal
// (sent as any reply, then the connection closes), or with a
// WebSocketHandler: the transport then completes the handshake (101) and
// feeds the handler the connection's messages.
#ifndef GATE_CA_API_WEBSOCKET_H_
#define GATE_CA_API_WEBSOCKET_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ca-server/api/http_types.h"

namespace gate::ca {

// Close codes (RFC 6455 section 7.4.1) gate sends.
inline constexpr std::uint16_t kCloseNormal = 1000;
inline constexpr std::uint16_t kClosePolicy = 1008;  // refused by policy or over a limit
inline constexpr std::uint16_t kCloseError = 1011;   // the server failed to serve it

// RFC 6455 allows a close reason of 123 bytes, in UTF-8: the longest prefix
// of reason that fits and does not end inside a character (a browser fails
// the connection, losing the reason, on one that does). reason is UTF-8.
std::string FitCloseReason(std::string reason);

struct WebSocketLimits {
  // The largest message a client may send; a bigger one closes the
  // connection with 1009 (Beast's read limit).
  std::size_t max_message_bytes = 64 * 1024;
  // The most the server queues for a client that does not read (Send).
  std::size_t max_queued_bytes = 1 << 20;
};

// The client's end of a connection, as the handler sees it. Implemented by
// the transport. Thread-safe: any method may be called from any thread, also
// after the connection is gone (then it does nothing and Send is false).
class WebSocketPeer {
 public:
  virtual ~WebSocketPeer() = default;

  // Queues one message (a text frame if text, else binary). False, queuing
  // nothing, when the connection is closing or gone, or when the queue would
  // then hold more than max_queued_bytes (a client that does not read).
  virtual bool Send(bool text, std::string data) = 0;

  // Ends the connection: when discard_queued, the messages not yet being
  // written are dropped; then final_text (if not empty) is sent as a text
  // message, then the close frame with code and reason (FitCloseReason).
  // Later calls do nothing.
  virtual void Close(std::uint16_t code, std::string reason, std::string final_text = {},
                     bool discard_queued = false) = 0;

  // Starts reading again after WebSocketHandler::OnMessage returned false.
  virtual void ResumeReading() = 0;
};

// Serves one connection. The transport calls it on its I/O threads, one call
// at a time per connection; no call may block.
class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;

  // The handshake is done; peer is the connection (the handler may keep it).
  virtual void OnOpen(std::shared_ptr<WebSocketPeer> peer) = 0;

  // One complete message from the client. Return false to stop reading
  // until peer->ResumeReading() (the handler's input is backed up).
  virtual bool OnMessage(bool text, std::string data) = 0;

  // The connection is over (the client closed it, the network failed, a
  // limit was hit, or the server's Close completed). Called exactly once
  // after OnOpen; nothing is called after it. Also called, without
  // OnOpen, when the handshake fails.
  virtual void OnClosed() = 0;
};

// What an upgrade request gets: a handler (accepted), or refusal, sent as a
// plain HTTP reply with no upgrade.
struct UpgradeResult {
  std::shared_ptr<WebSocketHandler> handler;
  HttpReply refusal;
  // The route pattern logged for an accepted upgrade (a refusal's is its
  // own route), so path parameters stay out of logs.
  std::string route;
};

// Decides an upgrade request, on a worker thread (it may block on the
// store). nullopt: not a WebSocket route; the request is answered by the
// ordinary handler, as if it asked for no upgrade.
using UpgradeHandler = std::function<std::optional<UpgradeResult>(const HttpRequest&)>;

}  // namespace gate::ca

#endif  // GATE_CA_API_WEBSOCKET_H_
