// An HTTPS/JSON client for gate's API, used by gate, gatectl and the node
// tools (gate-node otp-relay answers pam_gate's central OTP with it). TLS is
// verified by default; the alternatives are explicit: a pinned SPKI
// fingerprint, or insecure (the caller must warn the user). The bytes move
// over the HttpTransport the client is given (gate/http_transport.h);
// programs use libcurl's (CurlHttpClient, gate/curl_http.h).
#ifndef GATE_HTTP_CLIENT_H_
#define GATE_HTTP_CLIENT_H_

#include <json/json.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gate/http_transport.h"
#include "gate/secret.h"
#include "gate/status.h"

namespace gate {

// Connections kept open between requests (HTTP keep-alive); made by the
// libcurl transport (NewHttpConnectionPool, gate/curl_http.h).
class HttpConnectionPool;

struct HttpClientOptions {
  // "https://host:port" for TCP, or "http://localhost" with unix_socket set.
  std::string base_url;
  std::string unix_socket;  // path of a Unix socket to connect through
  bool insecure = false;    // skip certificate verification entirely
  // "sha256:<hex>" of the server certificate's SubjectPublicKeyInfo, as
  // `gate-ca start` prints it. When set, the server must present that key;
  // chain and host name are then not required to verify (self-signed setups).
  std::string ca_pin;
  std::string ca_file;  // extra CA bundle (PEM) to verify against
  std::chrono::milliseconds timeout{10000};
  // When non-empty, every request carries "Authorization: Bearer <token>"
  // (gate-node's "<host_uuid>.<secret>"). It only ever travels in that
  // header: never in a URL, never in an error message. A token containing
  // anything outside visible ASCII (a CR/LF would inject headers) makes
  // Request fail with InvalidArgument before anything is sent.
  SecretString bearer_token;
  // When set, connections come from and go back to this pool; otherwise each
  // request opens its own and closes it.
  std::shared_ptr<HttpConnectionPool> connection_pool;
};

struct HttpResponse {
  long status = 0;
  Json::Value body;  // parsed JSON (null if the body was empty)
};

// A request that is not JSON both ways: recording chunks (octet-stream up),
// recordings (bytes down), requests signed with extra headers.
struct HttpRawRequest {
  std::string method;        // GET, POST, PUT, PATCH, DELETE
  std::string target;        // path and query, appended to base_url
  std::string body;          // sent for POST/PUT/PATCH (possibly empty)
  std::string content_type;  // Content-Type of body; required when body is non-empty
  // Extra headers, e.g. {"X-Gate-Signature", "..."}. Names must be tokens
  // and values visible ASCII or spaces (no CR/LF), else InvalidArgument
  // before anything is sent. Never logged or put into error messages.
  std::vector<std::pair<std::string, std::string>> headers;
  std::size_t max_response_bytes = kMaxHttpResponseBytes;
};

struct HttpRawResponse {
  long status = 0;
  std::string content_type;  // as the server sent it, or empty
  std::string body;
};

class HttpClient {
 public:
  // transport: what sends the requests (shared; may serve other clients).
  // A null transport fails every request with Internal.
  HttpClient(HttpClientOptions options, std::shared_ptr<const HttpTransport> transport);

  // Sends method (GET/POST/DELETE/PUT) to base_url + path with an optional
  // JSON body. Transport failures -> Unavailable ("cannot reach https://...:
  // <reason>"), including refused or timed-out connections and malformed or
  // cut replies; a pin mismatch or failed verification says so. options.timeout
  // bounds the whole exchange.
  // A non-JSON or oversized response -> DataLoss. Any HTTP status is returned
  // as a response; use Call() to also turn API errors into a Status.
  Result<HttpResponse> Request(std::string_view method, std::string_view path,
                               const Json::Value* body = nullptr) const;

  // Request(), then: 2xx -> body; otherwise the Status carried by gate's JSON
  // error body {"error": {"code": "...", "message": "..."}} (code mapped back
  // with CodeFromName), or Internal("HTTP <n>") if the body is not that shape.
  Result<Json::Value> Call(std::string_view method, std::string_view path,
                           const Json::Value* body = nullptr) const;

  // Sends request as is and returns whatever came back, any status. The
  // bearer token, TLS trust and timeout of the options apply. Transport
  // failures as for Request(); a body over request.max_response_bytes is
  // DataLoss.
  Result<HttpRawResponse> Send(const HttpRawRequest& request) const;

  const HttpClientOptions& options() const { return options_; }

 private:
  HttpClientOptions options_;
  std::shared_ptr<const HttpTransport> transport_;
};

// Inverse of CodeName(); unknown names -> Code::kInternal.
Code CodeFromName(std::string_view name);

// The Status a non-2xx reply carries, as Call() decides it: gate's JSON
// error body mapped back with CodeFromName (never to OK), else
// Internal("HTTP <status> from <url>").
Status StatusFromErrorReply(long status, const Json::Value& body, std::string_view url);

// "sha256:<hex>" -> the "sha256//<base64>" form libcurl pins with.
// InvalidArgument on anything else. Also how callers check a pin's syntax
// early (it needs no libcurl).
Result<std::string> PinToCurl(std::string_view pin);

}  // namespace gate

#endif  // GATE_HTTP_CLIENT_H_
