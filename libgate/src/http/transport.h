// The seam between HttpClient (backend-neutral: validation, JSON, error
// replies) and the code that moves bytes: gate_http_curl, over libcurl
// (http/curl/), linked through gate::core. Keeping it a library of its own
// means a program that never sends HTTP (gate-principals, pam_gate.so) never
// loads libcurl. tests/unit/libgate/http_*_test.cc hold it to everything
// HttpClientOptions says.
#ifndef GATE_SRC_HTTP_TRANSPORT_H_
#define GATE_SRC_HTTP_TRANSPORT_H_

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gate/http_client.h"
#include "gate/status.h"

namespace gate::http {

// gate's largest responses (node and user listings) are far below this; the
// cap only stops a broken or hostile server from filling our memory.
inline constexpr std::size_t kMaxResponseSize = 8 * 1024 * 1024;

// One request, already validated by HttpClient: method is upper-case
// letters, the bearer token visible ASCII, header names tokens and values
// (and content_type) free of CR/LF and control bytes, ca_pin well formed.
struct Transfer {
  std::string_view method;
  std::string_view target;               // appended to options.base_url
  const std::string* payload = nullptr;  // null: no body
  std::string_view content_type;         // sent when non-empty
  bool accept_json = false;              // "Accept: application/json"
  const std::vector<std::pair<std::string, std::string>>* headers = nullptr;
  std::size_t max_response_bytes = kMaxResponseSize;
};

// Sends the transfer over the transport linked into this program and returns
// the reply, whatever its status. A body is sent when payload is set or the
// method is POST, PUT or PATCH. No redirect is followed. options.timeout
// bounds the whole exchange. Errors (built with the functions below, so both
// transports word them alike): Unavailable when the server cannot be reached
// or talked to (refused, timed out, TLS or pin failure, malformed or cut
// reply), DataLoss for a body over max_response_bytes, Internal for local
// failures. Messages carry the URL without its query, never a header value
// or body. Thread-safe (nothing shared between calls).
Result<HttpRawResponse> PerformHttp(const HttpClientOptions& options, const Transfer& transfer);

// The URL without its query string: errors get logged, and a query may one
// day carry a token.
std::string UrlForErrors(std::string_view url);

// "cannot reach <url>: <reason>" (Unavailable).
Status Unreachable(std::string_view url, std::string_view reason);
// The server's key is not the pinned one (Unavailable).
Status PinMismatch(std::string_view url, std::string_view pin);
// Chain or host name verification failed, with a hint at --ca-pin (Unavailable).
Status VerificationFailed(std::string_view url, std::string_view reason);
// "response from <url> is larger than <limit>" (DataLoss).
Status ResponseTooLarge(std::string_view url, std::size_t limit);

// "sha256:<64 hex digits>" -> the 32-byte SHA-256 of a SubjectPublicKeyInfo.
// Either case of hex. InvalidArgument on anything else (the message repeats
// the pin, which is public).
Result<std::array<unsigned char, 32>> ParseCaPin(std::string_view pin);

}  // namespace gate::http

#endif  // GATE_SRC_HTTP_TRANSPORT_H_
