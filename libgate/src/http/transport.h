// What HttpClient (gate_core) and the transports (gate/http_transport.h;
// libcurl's is gate_http_curl, http/curl/) share: error wording and the CA
// pin format. tests/unit/libgate/http_*_test.cc hold the transport to
// everything HttpClientOptions says.
#ifndef GATE_SRC_HTTP_TRANSPORT_H_
#define GATE_SRC_HTTP_TRANSPORT_H_

#include <array>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gate/http_client.h"
#include "gate/http_transport.h"
#include "gate/status.h"

namespace gate::http {

inline constexpr std::size_t kMaxResponseSize = kMaxHttpResponseBytes;
using Transfer = HttpTransfer;

// The URL without its query string: errors get logged, and a query may one
// day carry a token.
std::string UrlForErrors(std::string_view url);

// "cannot reach <url>: <reason>" (Unavailable).
Status Unreachable(std::string_view url, std::string_view reason);
// "cannot reach <url>: timed out after <n> ms" (Unavailable). curl words
// the same timeout differently depending on where it struck (connect, TLS
// handshake, reply); callers and logs get one wording.
Status TimedOut(std::string_view url, std::chrono::milliseconds after);
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
