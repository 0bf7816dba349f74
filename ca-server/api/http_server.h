// HttpServer: gate-ca's HTTP/1.1 transport. It owns the sockets, TLS, limits
// and timeouts, and hands each complete request to a synchronous Handler
// (normally Router::Dispatch). Two listeners:
//
//   - HTTPS on TCP (the JSON API and web UI for everyone): TLS 1.2 or 1.3
//     only, ECDHE key exchange only (AEAD ciphers), no TLS compression, no
//     renegotiation. Requests arrive with admin = false and source = peer IP.
//   - Plain HTTP on a Unix socket (gatectl on the same host): mode 0600, and
//     every connection's SO_PEERCRED uid must be in admin_uids, else it is
//     closed without a reply (and logged). Requests arrive with admin = true
//     and source = "unix:<uid>".
//
// Per connection: HTTP/1.1 keep-alive; headers at most 16 KiB (431 and close
// beyond); bodies at most max_body_bytes (413 "request body too large" and
// close, decided from Content-Length before the body is read when there is
// one); malformed HTTP or a request target that is not an absolute path gets
// 400 and close; "Expect: 100-continue" is answered. Deadlines (limits): the
// TLS handshake handshake_timeout; a request's headers header_timeout from
// its first byte (or from the handshake); its body body_timeout; the wait
// for the next request on a keep-alive connection idle_timeout. A
// connection that misses one is closed without a reply. TCP connections
// are capped in total (max_connections) and per source address
// (max_connections_per_source), the last connection_reserve slots going
// only to addresses with none open; a connection over a cap is accepted and
// closed at once (the admin socket has no cap, as only admin uids get past
// accept). docs/serving.md has the whole picture.
//
// Every reply carries Server: gate, Cache-Control: no-store and
// X-Content-Type-Options: nosniff. One log line per request: method, path
// (the matched route pattern when the reply names one, see HttpReply::route),
// status, source, duration; never the query or the body.
//
// Threads: Run() runs the event loop on `threads` I/O threads, which only
// move bytes and never call a handler or anything that blocks. Complete
// requests go to a pool of limits.worker_threads workers with one queue per
// TrafficClass (classify decides it from the request line once the headers
// are in; work_queues.h): handlers run there, several at once (so they must
// be thread-safe), and may block. A request whose class's queue is full,
// or that waited longer than limits.queue_timeout, is answered 503 with
// Retry-After and its handler is not called.
#ifndef GATE_CA_API_HTTP_SERVER_H_
#define GATE_CA_API_HTTP_SERVER_H_

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ca-server/api/http_types.h"
#include "ca-server/api/websocket.h"
#include "gate/config.h"
#include "gate/status.h"

namespace gate::ca {

struct HttpServerOptions {
  // HTTPS listener. An empty listen_host disables it. listen_host is an IP
  // literal ("0.0.0.0", "::", "127.0.0.1") or a name resolved once at
  // Start(); port 0 picks a free port (see HttpServer::port()).
  std::string listen_host;
  std::uint16_t listen_port = 0;
  // PEM certificate chain, and PEM private key. The key file is opened as a
  // secret: owned by the effective uid, no group/other permission bits.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Admin listener. Empty disables it. Its directory must exist, be owned by
  // the effective uid (or root) and not be writable by group or others.
  std::string admin_socket_path;
  std::vector<uid_t> admin_uids;  // peers allowed on the admin socket
  std::size_t max_body_bytes = 64 * 1024;
  // Requests of TrafficClass::kUpload for which large_body(method, path,
  // authorization) is true may carry up to large_body_bytes instead
  // (recording chunks from nodes). It is asked on an upload worker (it may
  // read the store) once the headers are in, and only when the body may be
  // larger than max_body_bytes; none of the body is read before it answers.
  // path is the target up to '?'. Unset: every request gets max_body_bytes.
  std::size_t large_body_bytes = 0;
  std::function<bool(std::string_view method, std::string_view path,
                     std::string_view authorization)>
      large_body;
  // The traffic class of a request, from its method and path (up to '?');
  // called on an I/O thread, so it must be cheap and must not block
  // (Router::Classify). Unset: kAdmin on the admin socket, kApi on HTTPS.
  std::function<TrafficClass(bool admin, std::string_view method, std::string_view path)> classify;
  // WebSocket upgrades on the HTTPS listener (websocket.h): a GET with
  // "Upgrade: websocket" goes to upgrade on a worker of the request's
  // traffic class. Unset: such requests are ordinary requests. An accepted
  // connection keeps its place in the connection caps until it closes; it
  // has no idle deadline of its own but is pinged, and closed when a ping
  // goes unanswered for kWebSocketIdleTimeout (http_server.cc).
  UpgradeHandler upgrade;
  WebSocketLimits websocket;
  int threads = 2;  // I/O threads
  // Workers, per-class queues, connection caps, deadlines (gate.yaml
  // auth_service.limits).
  ServingLimits limits;
};

// Answers one request; called on a worker thread. An exception is caught
// and answered with 500 "internal error" (its text is logged).
using Handler = std::function<HttpReply(const HttpRequest&)>;

class HttpServer {
 public:
  // Nothing is opened until Start().
  HttpServer(HttpServerOptions options, Handler public_handler, Handler admin_handler);
  // Closes the listeners and removes the admin socket file (if it is still
  // the one Start() made). Must not run while Run() is running: Stop(),
  // then wait for Run() to return.
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Loads the TLS certificate and key and binds both listeners; requests
  // are served once Run() is called. Call once, before other threads might
  // create files: it sets the process umask around bind() so the socket is
  // born 0600 (libgate's ListenUnix). A stale admin socket file is replaced
  // only if nothing is listening on it; the directory check above means only
  // this uid or root can have put it there.
  // Errors: InvalidArgument (bad options), PermissionDenied (key file or
  // socket directory unsafe; the message says how to fix it), NotFound
  // (certificate or key missing), FailedPrecondition (the socket path is
  // taken by something else or a live server), Unavailable (bind/listen
  // failed, e.g. port in use). On failure nothing stays open.
  // On success SIGINT and SIGTERM are already caught: one that arrives
  // before Run() makes Run() return at once (so the caller may print its
  // "serving" banner right after Start() without a window in which a stop
  // signal kills the process). They stay caught until the server is
  // destroyed.
  Status Start();

  // The bound TCP port (the real one when listen_port was 0); 0 before a
  // successful Start() or when TCP is disabled.
  std::uint16_t port() const;

  // Serves until Stop() is called (from any thread, before or during Run)
  // or the process receives SIGINT or SIGTERM, then returns. Uses `threads`
  // threads including the caller's. Requests in flight when it stops are
  // dropped. Call at most once, after a successful Start().
  void Run();

  // Makes Run() return soon. Thread-safe, idempotent, never blocks.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gate::ca

#endif  // GATE_CA_API_HTTP_SERVER_H_
