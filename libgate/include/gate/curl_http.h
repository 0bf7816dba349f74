// The libcurl HTTP transport (gate/http_transport.h) and what only it
// provides. Library gate::http_curl, which links libcurl: only programs that
// send HTTP (gate, gatectl, gate-node) link it.
//
// Thread safety: every function and object here may be used from any thread.
#ifndef GATE_CURL_HTTP_H_
#define GATE_CURL_HTTP_H_

#include <memory>

#include "gate/http_client.h"
#include "gate/http_transport.h"

namespace gate {

// The libcurl transport. It holds no state of its own (connections are
// reused only through options.connection_pool), so one is shared by all.
std::shared_ptr<const HttpTransport> CurlHttpTransport();

// HttpClient(options, CurlHttpTransport()): how programs get a client.
HttpClient CurlHttpClient(HttpClientOptions options);

// Connections kept open between requests (HTTP keep-alive), so a
// long-running program (gate-node otp-relay) sets up TLS once per connection
// instead of once per request. Thread-safe: share one among threads. A
// connection is reused only for a request with the same server and the same
// TLS settings (pin, CA file, verification), as libcurl decides.
std::shared_ptr<HttpConnectionPool> NewHttpConnectionPool();

}  // namespace gate

#endif  // GATE_CURL_HTTP_H_
