// gate_http_beast: PerformHttp over Boost.Beast, Asio and libssl, for
// pam_gate's central plugin, which loads on every authentication: libcurl
// and the 28 more libraries it needs took 2.2 ms of that to load
// (docs/benchmarks.md). The TLS policy is in tls.cc,
// URL parsing in url.cc, name resolution in resolve.cc; this file is the one
// that includes Beast and Asio (slow to compile), and only moves bytes.
//
// One exchange per call, on an io_context of its own: a fresh connection,
// one request, one reply, close. Every step runs against one deadline
// (options.timeout from the start of the call), like CURLOPT_TIMEOUT_MS.
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// GCC 12 reports -Wnull-dereference inside Asio's scheduler once it is
// inlined, in spite of Boost being a system header (as in gate-ca's
// http_server.cc); the pointer there is the thread's own context, never null.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/string_body.hpp>
#pragma GCC diagnostic pop

#include "gate/http_client.h"
#include "gate/secret.h"
#include "gate/unique_fd.h"
#include "http/beast/resolve.h"
#include "http/beast/tls.h"
#include "http/beast/url.h"
#include "http/transport.h"

namespace gate::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using Local = net::local::stream_protocol;
using ErrorCode = boost::system::error_code;
using Clock = std::chrono::steady_clock;

// libcurl's limit (CURL_MAX_HTTP_HEADER); Beast's default is 8 KiB.
constexpr std::uint32_t kMaxHeaderBytes = 100 * 1024;
// "100 Continue" and friends before the real reply; more is a broken server.
constexpr int kMaxInterimReplies = 8;

// Runs one asynchronous operation at a time on the exchange's io_context,
// all of them against the one deadline.
class Runner {
 public:
  Runner(Clock::time_point deadline, std::chrono::milliseconds timeout)
      : deadline_(deadline), timeout_(timeout) {}

  net::io_context& io() { return io_; }

  // start(handler) starts the operation. Returns its error code once it
  // completes, or, if the deadline comes first, calls abort() (which must
  // close the socket so the operation ends) and returns timed_out.
  template <typename Start, typename Abort>
  ErrorCode Run(Start&& start, Abort&& abort) {
    bool done = false;
    ErrorCode result;
    start([&done, &result](ErrorCode ec, auto&&...) {
      done = true;
      result = ec;
    });
    io_.restart();
    io_.run_until(deadline_);
    if (done) return result;
    abort();
    io_.restart();
    io_.run();  // the aborted operation's handler, so nothing outlives this frame
    return net::error::timed_out;
  }

  std::string TimedOut(std::string_view step) const {
    return "timed out after " + std::to_string(timeout_.count()) + " ms " + std::string(step);
  }

 private:
  net::io_context io_{1};
  Clock::time_point deadline_;
  std::chrono::milliseconds timeout_;
};

// A socket of protocol p with close-on-exec set (Asio would open one
// without), so a host program that forks meanwhile does not leak it.
template <typename Socket, typename Protocol>
ErrorCode OpenCloexec(Socket& socket, const Protocol& p) {
  UniqueFd fd(::socket(p.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrorCode(errno, boost::system::system_category());
  ErrorCode ec;
  socket.assign(p, fd.get(), ec);
  if (!ec) (void)fd.Release();
  return ec;
}

Result<std::vector<tcp::endpoint>> Endpoints(const Url& url, Clock::time_point deadline,
                                             std::string_view shown_url) {
  std::vector<tcp::endpoint> endpoints;
  const auto port = static_cast<std::uint16_t>(std::stoi(url.port));
  if (url.host_is_ip) {
    endpoints.emplace_back(net::ip::make_address(url.host), port);
    return endpoints;
  }
  auto found = ResolveBy(url.host, url.port, deadline);
  if (!found) return Err(Unreachable(shown_url, found.error().message()));
  for (const addrinfo* a = found->get(); a != nullptr; a = a->ai_next) {
    if (a->ai_family != AF_INET && a->ai_family != AF_INET6) continue;
    tcp::endpoint e;
    if (a->ai_addrlen > e.capacity()) continue;
    std::memcpy(e.data(), a->ai_addr, a->ai_addrlen);
    e.resize(a->ai_addrlen);
    endpoints.push_back(e);
  }
  if (endpoints.empty()) {
    return Err(Unreachable(shown_url, "host '" + url.host + "' has no usable address"));
  }
  return endpoints;
}

// Tries each address in turn, like curl (without its parallel attempts).
Result<tcp::socket> ConnectTcp(Runner& run, const Url& url, const std::vector<tcp::endpoint>& to,
                               std::string_view shown_url) {
  ErrorCode last;
  for (const tcp::endpoint& endpoint : to) {
    tcp::socket socket(run.io());
    ErrorCode ec = OpenCloexec(socket, endpoint.protocol());
    if (!ec) {
      ec = run.Run([&](auto handler) { socket.async_connect(endpoint, std::move(handler)); },
                   [&] {
                     ErrorCode ignored;
                     socket.close(ignored);
                   });
    }
    if (ec == net::error::timed_out) return Err(Unreachable(shown_url, run.TimedOut("connecting")));
    if (!ec) {
      // The request goes out in one write, but a reply to a second one must
      // never wait for a delayed ACK (gate-ca sets the same).
      socket.set_option(tcp::no_delay(true), ec);
      return socket;
    }
    last = ec;
  }
  return Err(Unreachable(
      shown_url, "cannot connect to " + url.host + " port " + url.port + ": " + last.message()));
}

Result<Local::socket> ConnectUnix(Runner& run, const std::string& path,
                                  std::string_view shown_url) {
  Local::socket socket(run.io());
  ErrorCode ec = OpenCloexec(socket, Local());
  if (!ec) {
    ec = run.Run(
        [&](auto handler) { socket.async_connect(Local::endpoint(path), std::move(handler)); },
        [&] {
          ErrorCode ignored;
          socket.close(ignored);
        });
  }
  if (ec == net::error::timed_out) return Err(Unreachable(shown_url, run.TimedOut("connecting")));
  if (ec) {
    return Err(Unreachable(shown_url, "cannot connect to socket " + path + ": " + ec.message()));
  }
  return socket;
}

// The whole request, serialized by Beast into memory that wipes itself: it
// carries the bearer token and the body (an OTP code, for pam_gate). Sent in
// one write, so a small request is one TLS record and one TCP segment.
Result<SecretString> Serialize(const HttpClientOptions& options, const Transfer& t,
                               const Url& url) {
  using Body = bhttp::span_body<const char>;
  bhttp::request<Body> req;
  req.version(11);
  req.method_string(t.method);
  req.target(url.target);
  req.set(bhttp::field::host, url.host_header);
  req.set(bhttp::field::user_agent, "gate");
  req.set(bhttp::field::accept, t.accept_json ? "application/json" : "*/*");
  if (!t.content_type.empty()) req.set(bhttp::field::content_type, t.content_type);
  if (t.headers != nullptr) {
    for (const auto& [name, value] : *t.headers) req.insert(name, value);
  }
  struct WipeAuthorization {
    bhttp::request<Body>& req;
    ~WipeAuthorization() {
      // Beast's own copy of the header value, wiped before Beast frees it.
      const std::string_view v = req[bhttp::field::authorization];
      if (!v.empty()) Wipe(const_cast<char*>(v.data()), v.size());
    }
  } wipe{req};
  if (!options.bearer_token.empty()) {
    SecretString value("Bearer ");
    value += options.bearer_token;
    req.set(bhttp::field::authorization, value.view());
  }
  const bool sends_body =
      t.payload != nullptr || t.method == "POST" || t.method == "PUT" || t.method == "PATCH";
  if (sends_body) {
    if (t.payload != nullptr) req.body() = Body::value_type(t.payload->data(), t.payload->size());
    req.content_length(req.body().size());
  }

  SecretString wire;
  bhttp::request_serializer<Body> serializer(req);
  ErrorCode ec;
  do {
    serializer.next(ec, [&](ErrorCode&, const auto& buffers) {
      std::size_t n = 0;
      for (const auto b : beast::buffers_range_ref(buffers)) {
        wire.append(static_cast<const char*>(b.data()), b.size());
        n += b.size();
      }
      serializer.consume(n);
    });
  } while (!ec && !serializer.is_done());
  if (ec) return Err(Internal("cannot serialize the request: " + ec.message()));
  return wire;
}

std::string ReadFailure(const ErrorCode& ec) {
  if (ec == bhttp::error::end_of_stream) return "the server closed the connection without replying";
  if (ec == bhttp::error::partial_message || ec == ssl::error::stream_truncated) {
    return "the reply was cut short";
  }
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category()) {
    return "malformed reply (" + ec.message() + ")";
  }
  return ec.message();
}

// Request out, reply in, over a connected (and, for https, verified) stream.
template <typename Stream>
Result<HttpRawResponse> Converse(Runner& run, Stream& stream, const SecretString& wire,
                                 const Transfer& t, std::string_view shown_url) {
  auto abort = [&] {
    ErrorCode ignored;
    stream.lowest_layer().close(ignored);
  };
  ErrorCode ec = run.Run(
      [&](auto handler) {
        net::async_write(stream, net::buffer(wire.data(), wire.size()), std::move(handler));
      },
      abort);
  if (ec == net::error::timed_out) {
    return Err(Unreachable(shown_url, run.TimedOut("sending the request")));
  }
  if (ec) return Err(Unreachable(shown_url, "cannot send the request: " + ec.message()));

  beast::flat_buffer buffer;
  for (int interim = 0;; ++interim) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(t.max_response_bytes);
    if (t.method == "HEAD") parser.skip(true);
    // The header on its own first: Beast 1.74's eager parse (async_read)
    // drops the body_limit error that a Content-Length over the cap raises at
    // the end of the header, and would then reserve that much memory.
    ec = run.Run(
        [&](auto handler) { bhttp::async_read_header(stream, buffer, parser, std::move(handler)); },
        abort);
    if (!ec && !parser.is_done()) {
      ec = run.Run(
          [&](auto handler) { bhttp::async_read(stream, buffer, parser, std::move(handler)); },
          abort);
    }
    if (ec == net::error::timed_out) {
      return Err(Unreachable(shown_url, run.TimedOut("waiting for the reply")));
    }
    if (ec == bhttp::error::body_limit) {
      return Err(ResponseTooLarge(shown_url, t.max_response_bytes));
    }
    if (ec) return Err(Unreachable(shown_url, ReadFailure(ec)));
    const unsigned status = parser.get().result_int();
    if (status >= 100 && status < 200 && status != 101) {
      if (interim == kMaxInterimReplies) {
        return Err(Unreachable(shown_url, "malformed reply (too many interim responses)"));
      }
      continue;
    }
    bhttp::response<bhttp::string_body> reply = parser.release();
    if (reply.body().size() > t.max_response_bytes) {
      return Err(ResponseTooLarge(shown_url, t.max_response_bytes));
    }
    HttpRawResponse response;
    response.status = static_cast<long>(status);
    response.content_type = std::string(reply[bhttp::field::content_type]);
    response.body = std::move(reply.body());
    return response;
  }
}

template <typename Socket>
Result<HttpRawResponse> OverSocket(Runner& run, Socket socket, const HttpClientOptions& options,
                                   const Transfer& t, const Url& url, const SecretString& wire,
                                   std::string_view shown_url) {
  if (!url.tls) return Converse(run, socket, wire, t, shown_url);

  ssl::context context(ssl::context::tls_client);
  if (Status s = ConfigureTlsContext(context.native_handle(), options); !s.ok()) {
    if (s.code() == Code::kUnavailable) return Err(Unreachable(shown_url, s.message()));
    return Err(s);
  }
  ssl::stream<Socket> stream(std::move(socket), context);
  GATE_RETURN_IF_ERROR(ConfigureTlsConnection(stream.native_handle(), url, options));
  ErrorCode ec = run.Run(
      [&](auto handler) { stream.async_handshake(ssl::stream_base::client, std::move(handler)); },
      [&] {
        ErrorCode ignored;
        stream.lowest_layer().close(ignored);
      });
  if (ec == net::error::timed_out) {
    return Err(Unreachable(shown_url, run.TimedOut("in the TLS handshake")));
  }
  if (ec) {
    const std::string why = VerificationFailure(stream.native_handle(), options);
    if (!why.empty()) return Err(VerificationFailed(shown_url, why));
    return Err(Unreachable(shown_url, "TLS handshake failed: " + ec.message()));
  }
  if (!options.insecure && !options.ca_pin.empty()) {
    auto pin = ParseCaPin(options.ca_pin);
    if (!pin) return Err(pin.error());
    if (!PeerKeyMatches(stream.native_handle(), *pin)) {
      return Err(PinMismatch(shown_url, options.ca_pin));
    }
  }
  return Converse(run, stream, wire, t, shown_url);
}

}  // namespace

Result<HttpRawResponse> PerformHttp(const HttpClientOptions& options, const Transfer& t) {
  const auto timeout = std::max(options.timeout, std::chrono::milliseconds(1));
  const Clock::time_point deadline = Clock::now() + timeout;
  const std::string shown_url = UrlForErrors(options.base_url + std::string(t.target));
  auto url = ParseUrl(options.base_url, t.target);
  if (!url) return Err(Unreachable(shown_url, url.error().message()));
  if (!options.ca_pin.empty()) {
    if (auto pin = ParseCaPin(options.ca_pin); !pin) return Err(pin.error());
  }
  try {
    auto wire = Serialize(options, t, *url);
    if (!wire) return Err(wire.error());
    Runner run(deadline, timeout);
    if (!options.unix_socket.empty()) {
      auto socket = ConnectUnix(run, options.unix_socket, shown_url);
      if (!socket) return Err(socket.error());
      return OverSocket(run, std::move(*socket), options, t, *url, *wire, shown_url);
    }
    auto endpoints = Endpoints(*url, deadline, shown_url);
    if (!endpoints) return Err(endpoints.error());
    auto socket = ConnectTcp(run, *url, *endpoints, shown_url);
    if (!socket) return Err(socket.error());
    return OverSocket(run, std::move(*socket), options, t, *url, *wire, shown_url);
  } catch (const std::exception& e) {
    // Asio throws only when out of resources (no epoll or eventfd left), and
    // std::string when out of memory.
    return Err(Internal(std::string("HTTP transport: ") + e.what()));
  }
}

}  // namespace gate::http
