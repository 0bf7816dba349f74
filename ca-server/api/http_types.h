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

#include <string>
#include <utility>
#include <vector>

#include "gate/status.h"

namespace gate::ca {

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
};

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
  // Content-Type, Content-Length, Connection) cannot be overridden.
  std::vector<std::pair<std::string, std::string>> headers;
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

}  // namespace gate::ca

#endif  // GATE_CA_API_HTTP_TYPES_H_
