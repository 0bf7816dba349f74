// An HTTPS/JSON client for gate's API (libcurl), used by gate, gatectl and
// node tools. TLS is verified by default; the alternatives are explicit:
// a pinned SPKI fingerprint, or insecure (the caller must warn the user).
#ifndef GATE_HTTP_CLIENT_H_
#define GATE_HTTP_CLIENT_H_

#include <chrono>
#include <string>
#include <string_view>

#include <json/json.h>

#include "gate/secret.h"
#include "gate/status.h"

namespace gate {

struct HttpClientOptions {
  // "https://host:port" for TCP, or "http://localhost" with unix_socket set.
  std::string base_url;
  std::string unix_socket;  // path of a Unix socket to connect through
  bool insecure = false;    // skip certificate verification entirely
  // "sha256:<hex>" of the server certificate's SubjectPublicKeyInfo, as
  // `gate-ca start` prints it. When set, the server must present that key;
  // chain and host name are then not required to verify (self-signed setups).
  std::string ca_pin;
  std::string ca_file;      // extra CA bundle (PEM) to verify against
  std::chrono::milliseconds timeout{10000};
  // When non-empty, every request carries "Authorization: Bearer <token>"
  // (gate-node's "<host_uuid>.<secret>"). It only ever travels in that
  // header: never in a URL, never in an error message. A token containing
  // anything outside visible ASCII (a CR/LF would inject headers) makes
  // Request fail with InvalidArgument before anything is sent.
  SecretString bearer_token;
};

struct HttpResponse {
  long status = 0;
  Json::Value body;  // parsed JSON (null if the body was empty)
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options);

  // Sends method (GET/POST/DELETE/PUT) to base_url + path with an optional
  // JSON body. Transport failures -> Unavailable ("cannot reach https://...:
  // <curl's reason>"); a pin mismatch or failed verification says so.
  // A non-JSON or oversized response -> DataLoss. Any HTTP status is returned
  // as a response; use Call() to also turn API errors into a Status.
  Result<HttpResponse> Request(std::string_view method, std::string_view path,
                               const Json::Value* body = nullptr) const;

  // Request(), then: 2xx -> body; otherwise the Status carried by gate's JSON
  // error body {"error": {"code": "...", "message": "..."}} (code mapped back
  // with CodeFromName), or Internal("HTTP <n>") if the body is not that shape.
  Result<Json::Value> Call(std::string_view method, std::string_view path,
                           const Json::Value* body = nullptr) const;

  const HttpClientOptions& options() const { return options_; }

 private:
  HttpClientOptions options_;
};

// Inverse of CodeName(); unknown names -> Code::kInternal.
Code CodeFromName(std::string_view name);

// "sha256:<hex>" -> the "sha256//<base64>" form libcurl pins with.
// InvalidArgument on anything else.
Result<std::string> PinToCurl(std::string_view pin);

}  // namespace gate

#endif  // GATE_HTTP_CLIENT_H_
