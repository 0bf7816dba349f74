// The request and reply values that cross between gate-ca's HTTP transport
// (http_server.h) and its route handlers (router.h), and the one mapping from
// gate::Code to an HTTP status.
//
// These types know nothing about sockets, TLS or Beast, so handlers and their
// tests do not pull in the transport.
//
// Thread safety: plain values.
#ifndef GATE_CA_API_HTTP_TYPES_H_
#define GATE_CA_API_HTTP_TYPES_H_

#include <json/json.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gate/status.h"

namespace gate::ca {

// Which of the worker pool's queues serves a request (docs/serving.md).
// Each class has its own concurrency and queue limit, so a flood of one
// cannot starve the others. Routes declare theirs in the Router.
enum class TrafficClass {
  kLogin,   // password logins and signup: argon2id, ~100 ms of CPU each
  kNode,    // nodes: join, policy sync, host certificates, central OTP
  kUpload,  // recording chunks and their completion, from nodes
  kApi,     // everything else on HTTPS: ping, users' session API, /web pages
  kAdmin,   // the admin socket (gatectl)
};
inline constexpr std::size_t kTrafficClassCount = 5;

// "login", "node", "upload", "api", "admin" (the gate.yaml key names).
std::string_view TrafficClassName(TrafficClass c);

struct HttpRequest {
  std::string method;  // "GET", "POST", ... exactly as sent
  std::string path;    // the request target up to '?', still percent-encoded
  std::string query;   // after '?', without it; never logged
  std::string body;    // bounded by HttpServerOptions::max_body_bytes; never logged
  // Who is on the other end: the peer IP of a TCP connection ("192.0.2.7",
  // "::1"), or "unix:<uid>" for the admin socket.
  std::string source;
  // True only for requests that arrived on the admin Unix socket from a peer
  // whose SO_PEERCRED uid is in HttpServerOptions::admin_uids.
  bool admin = false;
  std::string content_type;  // the Content-Type header as sent, or empty
  // The Authorization header as sent, or empty. A credential (node bearer
  // secrets): never logged.
  std::string authorization;
  // The X-Gate-Signature header as sent, or empty (users' signed requests,
  // gate/request_signing.h). Never logged.
  std::string signature;
  // The Cookie header as sent (several Cookie fields joined with "; "), or
  // empty. Carries the browser session id: never logged.
  std::string cookie;
  // The Origin header as sent (several joined with ", ", which matches no
  // origin), or empty: the browser's claim of which site made the request.
  std::string origin;
  // The X-CSRF-Token header as sent (several joined with ", "), or empty.
  // Never logged.
  std::string csrf_token;
  // Unix time (seconds) when the request's headers were in, before it
  // waited for a worker; 0 when unknown (requests built by tests). Time
  // checks that judge the client (OTP codes) use this, so the server's own
  // queueing delay never counts against the user.
  std::int64_t arrived_at = 0;
};

// When a request's client acted: its arrival time, or now() if that is
// unknown (or, with a clock a test controls, later than now()).
std::int64_t ClientTime(const HttpRequest& req, std::int64_t now);

struct HttpReply {
  int status = 200;
  // Sent as compact JSON unless raw_body is non-empty. A null value is sent
  // as "{}" so every JSON reply is an object (clients parse with
  // gate::json::Parse, which requires one). 204 and 304 are sent without
  // a body, whatever is set here.
  Json::Value body;
  std::string raw_body;
  std::string content_type = "application/json";
  // Extra response headers (e.g. Allow on a 405, Content-Security-Policy on
  // HTML). Names or values containing CR, LF or NUL are dropped by the server.
  // The server's own headers (Server, Cache-Control, X-Content-Type-Options,
  // Content-Type, Content-Length, Connection) cannot be set here: a copy is
  // dropped (Content-Type and Cache-Control have fields of their own).
  std::vector<std::pair<std::string, std::string>> headers;
  // The Cache-Control header. Everything gate-ca sends is per-user or
  // changes, so "no-store" unless a route knows better (the web UI's
  // assets, whose names carry a hash of their content). A value that is not
  // a safe header value is replaced by "no-store".
  std::string cache_control = "no-store";
  // The route pattern that produced this reply ("/web/newuser/{token}"),
  // set by Router. The server logs it in place of the request path, so
  // path parameters, which can be secrets (signup tokens), stay out of logs.
  std::string route;
};

// The HTTP status for a Code. The table (tested for every Code):
//   kOk 200, kInvalidArgument 400, kUnauthenticated 401,
//   kPermissionDenied 403, kNotFound 404, kAlreadyExists 409,
//   kFailedPrecondition 409, kResourceExhausted 429, kDataLoss 500,
//   kInternal 500, kUnavailable 503.
// kFailedPrecondition is 409 Conflict, not 400: the request was well formed
// but the state of the thing it names (an expired or used token, a locked
// user) does not allow it, which is what 409 means; a client that retries a
// 400 unchanged is buggy, one that retries a 409 after the state changes is
// not. (412 is for If-* request headers, which gate does not use.)
int ToHttpStatus(Code code);

// An error reply for a non-OK status: HTTP status from ToHttpStatus, body
//   {"error": {"code": "<CodeName>", "message": "<message>"}}.
// For codes that map to 5xx (kInternal, kDataLoss, kUnavailable) the message
// is replaced by a generic one and the real status is logged instead: those
// messages describe gate's insides (paths, SQL, library errors), not the
// caller's mistake. An OK status yields an Internal error reply (a bug).
HttpReply ErrorReply(const Status& s);

// An error reply with an explicit HTTP status, for transport-level errors
// that have no Code of their own (405, 413, 415, 431). `code` names the error
// in the JSON body; `message` is sent as is, so it must not carry internals.
HttpReply ErrorReply(int http_status, Code code, std::string message);

// 503 with "Retry-After: <retry_after_seconds>" for a request the server
// refused to queue (its class's queue is full) or that waited past the
// queue timeout: the client should come back later, and can tell this
// apart from a failure of its own request.
HttpReply BusyReply(TrafficClass c, int retry_after_seconds);

// A request path fit for logs and audit rows: every segment that could be
// a credential is replaced by "<redacted>" (a signup token in
// /web/newuser/TOKEN/x), and the result is cut at max_size bytes with "..."
// appended. A segment counts as a credential when it holds a run of 16 or
// more characters from [A-Za-z0-9%] (128-bit tokens are 32 hex digits;
// UUIDs, whose longest run is 12, stay readable). The query is never part
// of a path. An empty path gives "-".
std::string RedactPath(std::string_view path, std::size_t max_size = 200);

}  // namespace gate::ca

#endif  // GATE_CA_API_HTTP_TYPES_H_
