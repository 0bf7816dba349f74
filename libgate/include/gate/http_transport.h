// HttpTransport: what moves HttpClient's bytes (gate/http_client.h).
//
// HttpClient is backend-neutral (validation, JSON, gate's error replies) and
// lives in gate::core; the transport is injected. The real one is libcurl's
// (gate/curl_http.h, library gate::http_curl), which depends on gate::core and
// never the reverse, so programs that never send HTTP (gate-principals,
// pam_gate.so) never link or load libcurl.
#ifndef GATE_HTTP_TRANSPORT_H_
#define GATE_HTTP_TRANSPORT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gate/status.h"

namespace gate {

struct HttpClientOptions;
struct HttpRawResponse;

// gate's largest responses (node and user listings) are far below this; the
// cap only stops a broken or hostile server from filling our memory.
inline constexpr std::size_t kMaxHttpResponseBytes = 8 * 1024 * 1024;

// One request, already validated by HttpClient: method is upper-case
// letters, the bearer token visible ASCII, header names tokens and values
// (and content_type) free of CR/LF and control bytes, ca_pin well formed.
struct HttpTransfer {
  std::string_view method;
  std::string_view target;               // appended to options.base_url
  const std::string* payload = nullptr;  // null: no body
  std::string_view content_type;         // sent when non-empty
  bool accept_json = false;              // "Accept: application/json"
  const std::vector<std::pair<std::string, std::string>>* headers = nullptr;
  std::size_t max_response_bytes = kMaxHttpResponseBytes;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;

  // Sends the transfer and returns the reply, whatever its status. A body is
  // sent when payload is set or the method is POST, PUT or PATCH. No
  // redirect is followed. options.timeout bounds the whole exchange. Errors:
  // Unavailable when the server cannot be reached or talked to (refused,
  // timed out, TLS or pin failure, malformed or cut reply), DataLoss for a
  // body over max_response_bytes, Internal for local failures. Messages
  // carry the URL without its query, never a header value or body.
  // Thread-safe: one transport serves any number of clients and threads.
  virtual Result<HttpRawResponse> Perform(const HttpClientOptions& options,
                                          const HttpTransfer& transfer) const = 0;
};

}  // namespace gate

#endif  // GATE_HTTP_TRANSPORT_H_
