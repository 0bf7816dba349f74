// All of gate-ca's Beast code lives in this one translation unit: with Beast
// and Asio included this file alone takes about 90 s to compile on a 2-core
// machine, so it is kept out of headers and other files. TLS settings come
// from signer/tls_cert.h; this file makes no OpenSSL calls of its own.
#include "ca-server/api/http_server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

// GCC 12 reports -Wnull-dereference inside Asio's scheduler once it is
// inlined into this file, in spite of Boost being a system header; the
// pointer there is the thread's own context, never null.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#pragma GCC diagnostic pop

#include "ca-server/api/memory_trim.h"
#include "ca-server/api/work_queues.h"
#include "ca-server/signer/tls_cert.h"
#include "gate/json.h"
#include "gate/log.h"
#include "gate/secure_file.h"
#include "gate/unique_fd.h"
#include "gate/unix_socket.h"

namespace gate::ca {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using UnixProtocol = net::local::stream_protocol;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using UnixStream = beast::basic_stream<UnixProtocol>;
using ErrorCode = beast::error_code;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kHeaderLimit = 16 * 1024;
constexpr std::chrono::seconds kShutdownTime{5};
// What a 503 from a full or slow queue tells the client to wait.
constexpr int kBusyRetryAfterSeconds = 2;
// How often refused connections are summed up in the log: one line per
// refused connection would let a flood fill the journal.
constexpr std::chrono::seconds kRefusalLogInterval{10};
constexpr std::size_t kFirstReadBytes = 4096;
// After an error reply that ends the connection the client may still be
// sending the body we refused. Closing a socket with unread input makes the
// kernel send a RST, which can destroy the reply before the client reads it;
// so half-close, then read and discard for a while (nginx's lingering close).
constexpr std::chrono::seconds kLingerTime{5};
constexpr std::size_t kLingerMaxBytes = 1 << 20;
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
// A WebSocket's opening and closing handshakes must finish within this.
constexpr std::chrono::seconds kWebSocketHandshakeTimeout{10};
// An open WebSocket is pinged after half of this without traffic and
// closed if nothing answers within the other half: a browser answers pings
// on its own, so only a dead peer or network is cut.
constexpr std::chrono::seconds kWebSocketIdleTimeout{60};
// How often free memory malloc keeps after a burst is handed back
// (memory_trim.h). A trim with little to return costs microseconds.
constexpr std::chrono::seconds kMemoryTrimInterval{10};
// Response headers the server owns; a handler's copy of one is dropped.
constexpr std::string_view kReservedHeaders[] = {
    "server",       "cache-control",  "x-content-type-options",
    "content-type", "content-length", "transfer-encoding",
    "connection",   "keep-alive",     "upgrade",
    "trailer"};

// Every field called name in msg, joined with sep (one field: its value as is).
template <typename Message>
std::string JoinFields(const Message& msg, std::string_view name, std::string_view sep) {
  std::string out;
  bool first = true;
  for (auto range = msg.equal_range(name); range.first != range.second; ++range.first) {
    if (!first) out += sep;
    out += std::string_view(range.first->value());
    first = false;
  }
  return out;
}

// Open TCP connections, in total and per source address, and the
// admission rule for new ones (HttpServerOptions::limits).
class ConnectionTable {
 public:
  enum class Verdict { kAdmit, kFull, kSourceFull, kReserved };

  explicit ConnectionTable(const ServingLimits& limits) : limits_(limits) {}

  // Counts the connection in and returns kAdmit, or counts nothing and says
  // which cap refused it. The last connection_reserve slots go only to
  // sources with no connection open, so a source at its cap (or many
  // sources near theirs) cannot take the room new clients need.
  Verdict Admit(const std::string& source) {
    std::lock_guard<std::mutex> lock(mu_);
    if (total_ >= limits_.max_connections) return Verdict::kFull;
    auto it = per_source_.find(source);
    const int held = it == per_source_.end() ? 0 : it->second;
    if (held >= limits_.max_connections_per_source) return Verdict::kSourceFull;
    if (held > 0 && total_ >= limits_.max_connections - limits_.connection_reserve) {
      return Verdict::kReserved;
    }
    ++total_;
    ++per_source_[source];
    return Verdict::kAdmit;
  }

  void Release(const std::string& source) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = per_source_.find(source);
    if (it == per_source_.end()) return;
    --total_;
    if (--it->second == 0) per_source_.erase(it);
  }

 private:
  const ServingLimits limits_;
  std::mutex mu_;
  int total_ = 0;                                    // guarded by mu_
  std::unordered_map<std::string, int> per_source_;  // guarded by mu_
};

// worker_threads counts every worker; logins at a nice value run on
// workers of their own (WorkQueues), so the shared ones are the rest.
int SharedWorkers(const ServingLimits& limits) {
  const int own = limits.login.nice > 0 ? limits.login.concurrency : 0;
  return std::max(1, limits.worker_threads - own);
}

// What every session needs. Sessions hold it by shared_ptr, so it outlives
// them however the io_context is torn down.
struct Shared {
  explicit Shared(HttpServerOptions o)
      : options(std::move(o)),
        connections(options.limits),
        workers(SharedWorkers(options.limits),
                {QueueLimits{options.limits.login.concurrency, options.limits.login.queue,
                             options.limits.login.nice},
                 QueueLimits{options.limits.node.concurrency, options.limits.node.queue},
                 QueueLimits{options.limits.upload.concurrency, options.limits.upload.queue},
                 QueueLimits{options.limits.api.concurrency, options.limits.api.queue},
                 QueueLimits{options.limits.admin.concurrency, options.limits.admin.queue}}) {}

  TrafficClass Classify(bool admin, std::string_view method, std::string_view path) const {
    if (options.classify) return options.classify(admin, method, path);
    return admin ? TrafficClass::kAdmin : TrafficClass::kApi;
  }

  HttpServerOptions options;
  Handler public_handler;
  Handler admin_handler;
  ConnectionTable connections;
  WorkQueues workers;
};

// RFC 9110 token characters, for header names.
bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// No CR, LF, NUL or other control characters but tab: they would let a
// value split the response (header injection).
bool IsSafeHeaderValue(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    const auto uc = static_cast<unsigned char>(c);
    return (uc < 0x20 && c != '\t') || uc == 0x7f;
  });
}

bool IsReservedHeader(std::string_view name) {
  return std::any_of(std::begin(kReservedHeaders), std::end(kReservedHeaders),
                     [name](std::string_view r) { return beast::iequals(name, r); });
}

bool IsHttpParseError(const ErrorCode& ec) {
  return ec.category() == make_error_code(http::error::bad_method).category();
}

void SetCloseOnExec(int fd) {
  // Asio opens and accepts sockets without CLOEXEC; a child gate-ca spawns
  // must not inherit client connections or the listeners.
  const int flags = ::fcntl(fd, F_GETFD);
  if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

// One accepted WebSocket (websocket.h), over the TLS stream an HTTP session
// handed over. It holds that session's place in the connection caps until
// it is destroyed. Every step runs on the connection's strand; the
// WebSocketPeer methods may be called from any thread and post to it.
class WebSocketConnection : public WebSocketPeer,
                            public std::enable_shared_from_this<WebSocketConnection> {
 public:
  WebSocketConnection(TlsStream stream, std::shared_ptr<Shared> shared, std::string source,
                      std::shared_ptr<WebSocketHandler> handler)
      : ws_(std::move(stream)),
        shared_(std::move(shared)),
        source_(std::move(source)),
        handler_(std::move(handler)) {}
  ~WebSocketConnection() override { shared_->connections.Release(source_); }
  WebSocketConnection(const WebSocketConnection&) = delete;
  WebSocketConnection& operator=(const WebSocketConnection&) = delete;

  // On the strand: completes the handshake for request.
  void Accept(http::request<http::string_body> request) {
    request_ = std::move(request);
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout timeout{};
    timeout.handshake_timeout = kWebSocketHandshakeTimeout;
    timeout.idle_timeout = kWebSocketIdleTimeout;
    timeout.keep_alive_pings = true;
    ws_.set_option(timeout);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "gate"); }));
    ws_.read_message_max(shared_->options.websocket.max_message_bytes);
    ws_.async_accept(request_,
                     beast::bind_front_handler(&WebSocketConnection::OnAccept, shared_from_this()));
  }

  bool Send(bool text, std::string data) override {
    const std::size_t n = data.size();
    const std::size_t before = queued_.fetch_add(n);
    if (closing_.load() || before + n > shared_->options.websocket.max_queued_bytes) {
      queued_.fetch_sub(n);
      return false;
    }
    net::post(ws_.get_executor(), [self = shared_from_this(), text, data = std::move(data)] {
      self->queue_.push_back({text, std::move(data)});
      self->WriteNext();
    });
    return true;
  }

  void Close(std::uint16_t code, std::string reason, std::string final_text,
             bool discard_queued) override {
    if (closing_.exchange(true)) return;
    reason = FitCloseReason(std::move(reason));
    net::post(ws_.get_executor(), [self = shared_from_this(), code, reason = std::move(reason),
                                   final_text = std::move(final_text), discard_queued] {
      if (discard_queued) {
        // The message being written (the front, while writing_) must finish.
        const std::size_t keep = self->writing_ ? 1 : 0;
        while (self->queue_.size() > keep) {
          self->queued_.fetch_sub(self->queue_.back().data.size());
          self->queue_.pop_back();
        }
      }
      if (!final_text.empty()) {
        self->queued_.fetch_add(final_text.size());
        self->queue_.push_back({true, final_text});
      }
      self->close_reason_ =
          websocket::close_reason(static_cast<websocket::close_code>(code), reason);
      self->close_pending_ = true;
      self->WriteNext();
    });
  }

  void ResumeReading() override {
    net::post(ws_.get_executor(), [self = shared_from_this()] {
      if (!self->read_paused_ || self->finished_) return;
      self->read_paused_ = false;
      self->Read();
    });
  }

 private:
  struct Message {
    bool text = false;
    std::string data;
  };

  void OnAccept(ErrorCode ec) {
    if (ec) {
      log::Debug("http: WebSocket handshake with " + source_ + " failed: " + ec.message());
      return Finish();
    }
    handler_->OnOpen(shared_from_this());
    Read();
  }

  void Read() {
    ws_.async_read(read_buffer_,
                   beast::bind_front_handler(&WebSocketConnection::OnRead, shared_from_this()));
  }

  void OnRead(ErrorCode ec, std::size_t) {
    if (ec) {
      if (ec != websocket::error::closed && ec != net::error::operation_aborted) {
        log::Debug("http: WebSocket from " + source_ + " ended: " + ec.message());
      }
      return Finish();
    }
    if (finished_) return;
    std::string data = beast::buffers_to_string(read_buffer_.data());
    read_buffer_.consume(read_buffer_.size());
    if (!handler_->OnMessage(ws_.got_text(), std::move(data))) {
      read_paused_ = true;
      return;
    }
    Read();
  }

  void WriteNext() {
    if (writing_ || finished_) return;
    if (queue_.empty()) {
      if (close_pending_ && !close_sent_) {
        close_sent_ = true;
        ws_.async_close(close_reason_, beast::bind_front_handler(&WebSocketConnection::OnClose,
                                                                 shared_from_this()));
      }
      return;
    }
    writing_ = true;
    ws_.text(queue_.front().text);
    ws_.async_write(net::buffer(queue_.front().data),
                    beast::bind_front_handler(&WebSocketConnection::OnWrite, shared_from_this()));
  }

  void OnWrite(ErrorCode ec, std::size_t) {
    writing_ = false;
    queued_.fetch_sub(queue_.front().data.size());
    queue_.pop_front();
    if (ec) return Finish();
    WriteNext();
  }

  void OnClose(ErrorCode) { Finish(); }

  // Tells the handler, once, that the connection is over.
  void Finish() {
    if (finished_) return;
    finished_ = true;
    closing_ = true;
    if (handler_) handler_->OnClosed();
    handler_.reset();
  }

  websocket::stream<TlsStream> ws_;
  std::shared_ptr<Shared> shared_;
  const std::string source_;
  std::shared_ptr<WebSocketHandler> handler_;  // reset by Finish
  http::request<http::string_body> request_;
  beast::flat_buffer read_buffer_;
  std::deque<Message> queue_;
  std::atomic<std::size_t> queued_{0};  // bytes in queue_ and in Send's posts
  std::atomic<bool> closing_{false};
  bool writing_ = false;
  bool read_paused_ = false;
  bool close_pending_ = false;
  bool close_sent_ = false;
  bool finished_ = false;
  websocket::close_reason close_reason_;
};

// One HTTP/1.1 connection, over TLS or over the admin Unix socket. Each
// step schedules the next and holds a shared_ptr to the session, so the
// session lives exactly as long as an operation is pending on it. All steps
// run on the connection's strand.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  // A TCP session takes over the connection ConnectionTable::Admit counted
  // for source, and releases it when it ends.
  template <class... StreamArgs>
  Session(std::shared_ptr<Shared> shared, std::string source, bool admin,
          StreamArgs&&... stream_args)
      : stream_(std::forward<StreamArgs>(stream_args)...),
        shared_(std::move(shared)),
        source_(std::move(source)),
        admin_(admin) {}
  ~Session() {
    if (!admin_ && !handed_off_) shared_->connections.Release(source_);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void Start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::OnStart, this->shared_from_this()));
  }

 private:
  enum class After { kKeepAlive, kClose, kLingerThenClose };

  auto& Lowest() { return beast::get_lowest_layer(stream_); }
  const HttpServerOptions& options() const { return shared_->options; }
  const ServingLimits& limits() const { return shared_->options.limits; }

  void OnStart() {
    if constexpr (kTls) {
      Lowest().expires_after(limits().handshake_timeout);
      stream_.async_handshake(
          ssl::stream_base::server,
          beast::bind_front_handler(&Session::OnHandshake, this->shared_from_this()));
    } else {
      ReadHeader();
    }
  }

  void OnHandshake(ErrorCode ec) {
    if (ec) {
      // Scanners and clients with a pin mismatch end here; not worth more.
      log::Debug("http: TLS handshake with " + source_ + " failed: " + ec.message());
      return;
    }
    ReadHeader();
  }

  // Two deadlines per request: a keep-alive connection may sit idle up to
  // idle_timeout for the next request's first byte, and from there (or from
  // the handshake, for the first request) the headers must be complete
  // within header_timeout. A client trickling a header a byte at a time
  // (slowloris) is cut off at header_timeout.
  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    // The largest any route takes; OnReadHeader narrows it per request.
    parser_->body_limit(std::max(options().max_body_bytes, options().large_body_bytes));
    if (served_ == 0 || buffer_.size() > 0) return ReadRestOfHeader();
    Lowest().expires_after(limits().idle_timeout);
    stream_.async_read_some(
        buffer_.prepare(kFirstReadBytes),
        beast::bind_front_handler(&Session::OnFirstBytes, this->shared_from_this()));
  }

  void OnFirstBytes(ErrorCode ec, std::size_t n) {
    // The peer closed or idled out between requests: nothing to answer.
    if (ec) return;
    buffer_.commit(n);
    ReadRestOfHeader();
  }

  void ReadRestOfHeader() {
    Lowest().expires_after(limits().header_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&Session::OnReadHeader, this->shared_from_this()));
  }

  void OnReadHeader(ErrorCode ec, std::size_t) {
    started_ = Clock::now();
    arrived_at_ = static_cast<std::int64_t>(std::time(nullptr));
    if (ec) return OnReadError(ec);
    const auto& msg = parser_->get();
    const std::string_view target = msg.target();
    class_ = shared_->Classify(admin_, msg.method_string(), target.substr(0, target.find('?')));
    const auto length = parser_->content_length();
    // Only a node's chunk upload may be large, and deciding that costs a
    // store lookup, which has no place on an I/O thread: the upload queue
    // answers, and the body waits unread until it has.
    const bool may_be_large = options().large_body && class_ == TrafficClass::kUpload &&
                              options().large_body_bytes > options().max_body_bytes &&
                              (!length || *length > options().max_body_bytes);
    if (may_be_large) return CheckLargeBody();
    ApplyBodyLimit(options().max_body_bytes);
  }

  void CheckLargeBody() {
    const auto& msg = parser_->get();
    const std::string_view target = msg.target();
    auto job = [self = this->shared_from_this(), method = std::string(msg.method_string()),
                path = std::string(target.substr(0, target.find('?'))),
                authorization =
                    std::string(msg[http::field::authorization])](Clock::duration waited) {
      enum Outcome { kSmall, kLarge, kShed } outcome = kShed;
      if (waited <= self->limits().queue_timeout) {
        try {
          outcome = self->options().large_body(method, path, authorization) ? kLarge : kSmall;
        } catch (const std::exception& e) {
          log::Error(std::string("http: large-body check threw: ") + e.what());
          outcome = kSmall;
        } catch (...) {
          outcome = kSmall;
        }
      }
      net::post(self->stream_.get_executor(), [self, outcome] {
        if (outcome == kShed) {
          return self->Respond(BusyReply(self->class_, kBusyRetryAfterSeconds),
                               After::kLingerThenClose);
        }
        self->ApplyBodyLimit(outcome == kLarge ? self->options().large_body_bytes
                                               : self->options().max_body_bytes);
      });
    };
    if (!shared_->workers.Submit(class_, source_, std::move(job))) {
      Respond(BusyReply(class_, kBusyRetryAfterSeconds), After::kLingerThenClose);
    }
  }

  // The body limit for this request: a Content-Length above it is refused
  // now; a chunked body is cut off when it passes it.
  void ApplyBodyLimit(std::size_t limit) {
    const auto& msg = parser_->get();
    const auto length = parser_->content_length();
    if (length && *length > limit) {
      return Respond(ErrorReply(413, Code::kInvalidArgument, "request body too large"),
                     After::kLingerThenClose);
    }
    parser_->body_limit(limit);
    // curl and others wait (up to a second) for "100 Continue" before
    // sending a large body; a limit violation was already caught above.
    if (!parser_->is_done() && msg.version() >= 11 &&
        beast::iequals(msg[http::field::expect], "100-continue")) {
      continue_ = http::response<http::empty_body>(http::status::continue_, msg.version());
      Lowest().expires_after(limits().header_timeout);
      http::async_write(
          stream_, continue_,
          beast::bind_front_handler(&Session::OnContinueSent, this->shared_from_this()));
      return;
    }
    ReadBody();
  }

  void OnContinueSent(ErrorCode ec, std::size_t) {
    if (ec) return;
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return Handle();
    Lowest().expires_after(limits().body_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnReadBody, this->shared_from_this()));
  }

  void OnReadBody(ErrorCode ec, std::size_t) {
    if (ec) return OnReadError(ec);
    Handle();
  }

  void OnReadError(const ErrorCode& ec) {
    if (ec == http::error::body_limit) {
      return Respond(ErrorReply(413, Code::kInvalidArgument, "request body too large"),
                     After::kLingerThenClose);
    }
    if (ec == http::error::header_limit) {
      return Respond(ErrorReply(431, Code::kInvalidArgument, "request headers too large"),
                     After::kLingerThenClose);
    }
    if (ec != http::error::end_of_stream && IsHttpParseError(ec)) {
      return Respond(ErrorReply(400, Code::kInvalidArgument, "malformed HTTP request"),
                     After::kLingerThenClose);
    }
    // The peer closed, idled out, or broke TLS: there is nobody to answer,
    // and returning drops the last reference, which closes the socket.
  }

  void Handle() {
    auto& msg = parser_->get();
    HttpRequest req;
    req.method = std::string(msg.method_string());
    const std::string_view target = msg.target();
    const std::size_t q = target.find('?');
    req.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));
    req.body = std::move(msg.body());
    req.content_type = std::string(msg[http::field::content_type]);
    req.authorization = std::string(msg[http::field::authorization]);
    req.signature = std::string(msg["X-Gate-Signature"]);
    req.cookie = JoinFields(msg, "Cookie", "; ");
    req.origin = JoinFields(msg, "Origin", ", ");
    req.csrf_token = JoinFields(msg, "X-CSRF-Token", ", ");
    req.source = source_;
    req.admin = admin_;
    req.arrived_at = arrived_at_;
    const After after = msg.keep_alive() ? After::kKeepAlive : After::kClose;

    if constexpr (kTls) {
      if (options().upgrade && websocket::is_upgrade(msg) && !req.path.empty() &&
          req.path.front() == '/') {
        return HandleUpgrade(std::move(req), after);
      }
    }
    if (req.path.empty() || req.path.front() != '/') {
      // Absolute-form ("http://host/x") and authority-form targets are for
      // proxies; a client that takes gate for one is confused, so it gets
      // the same treatment as malformed HTTP.
      return Respond(
          ErrorReply(400, Code::kInvalidArgument, "request target must be an absolute path"),
          After::kClose);
    }
    // The handler runs on a worker; the reply comes back to this
    // connection's strand to be written.
    // The reply is sent from `then`, after the worker's slot is free, so a
    // client that sends its next request on seeing the reply finds the slot
    // free.
    auto reply = std::make_shared<HttpReply>(ErrorReply(500, Code::kInternal, "internal error"));
    auto job = [self = this->shared_from_this(), req = std::move(req),
                reply](Clock::duration waited) {
      *reply = waited > self->limits().queue_timeout
                   ? BusyReply(self->class_, kBusyRetryAfterSeconds)
                   : self->CallHandler(req);
    };
    auto then = [self = this->shared_from_this(), reply, after] {
      net::post(self->stream_.get_executor(),
                [self, reply, after] { self->Respond(std::move(*reply), after); });
    };
    if (!shared_->workers.Submit(class_, source_, std::move(job), std::move(then))) {
      // The body was read in full, so the connection can carry on.
      Respond(BusyReply(class_, kBusyRetryAfterSeconds), after);
    }
  }

  // A WebSocket upgrade request: the upgrade handler decides on a worker
  // (store reads), then, on this strand, the connection is either handed
  // to a WebSocketConnection or answered as an ordinary request.
  void HandleUpgrade(HttpRequest req, After after) {
    struct Outcome {
      std::optional<UpgradeResult> upgrade;
      HttpReply reply = ErrorReply(500, Code::kInternal, "internal error");
    };
    auto outcome = std::make_shared<Outcome>();
    auto job = [self = this->shared_from_this(), req = std::move(req),
                outcome](Clock::duration waited) {
      if (waited > self->limits().queue_timeout) {
        outcome->reply = BusyReply(self->class_, kBusyRetryAfterSeconds);
        return;
      }
      try {
        outcome->upgrade = self->options().upgrade(req);
      } catch (const std::exception& e) {
        log::Error("http: upgrade handler for " + RedactPath(req.path) + " threw: " + e.what());
        return;
      } catch (...) {
        log::Error("http: upgrade handler for " + RedactPath(req.path) + " threw");
        return;
      }
      if (!outcome->upgrade) outcome->reply = self->CallHandler(req);
    };
    auto then = [self = this->shared_from_this(), outcome, after] {
      net::post(self->stream_.get_executor(), [self, outcome, after] {
        if (!outcome->upgrade) return self->Respond(std::move(outcome->reply), after);
        if (!outcome->upgrade->handler) {
          return self->Respond(std::move(outcome->upgrade->refusal), After::kClose);
        }
        self->Upgrade(std::move(outcome->upgrade->handler), outcome->upgrade->route);
      });
    };
    if (!shared_->workers.Submit(class_, source_, std::move(job), std::move(then))) {
      Respond(BusyReply(class_, kBusyRetryAfterSeconds), After::kClose);
    }
  }

  void Upgrade(std::shared_ptr<WebSocketHandler> handler, const std::string& route) {
    if constexpr (kTls) {
      LogRequest(101, route);
      ++served_;
      handed_off_ = true;
      auto connection = std::make_shared<WebSocketConnection>(std::move(stream_), shared_, source_,
                                                              std::move(handler));
      connection->Accept(parser_->release());
    }
  }

  // On a worker thread.
  HttpReply CallHandler(const HttpRequest& req) const {
    const Handler& handler = admin_ ? shared_->admin_handler : shared_->public_handler;
    try {
      return handler(req);
    } catch (const std::exception& e) {
      log::Error("http: handler for " + req.method + " " + RedactPath(req.path) +
                 " threw: " + e.what());
    } catch (...) {
      log::Error("http: handler for " + req.method + " " + RedactPath(req.path) + " threw");
    }
    return ErrorReply(500, Code::kInternal, "internal error");
  }

  void Respond(HttpReply reply, After after) {
    if (reply.status < 200 || reply.status > 599) {
      log::Error("http: handler returned HTTP status " + std::to_string(reply.status));
      reply = ErrorReply(500, Code::kInternal, "internal error");
    }
    const unsigned version = parser_->get().version() == 10 ? 10 : 11;
    res_ = http::response<http::string_body>(static_cast<http::status>(reply.status), version);
    for (const auto& [name, value] : reply.headers) {
      if (!IsToken(name) || !IsSafeHeaderValue(value) || IsReservedHeader(name)) {
        log::Error("http: dropping reply header '" + name + "' (reserved or unsafe)");
        continue;
      }
      res_.insert(name, value);
    }
    res_.set(http::field::server, "gate");
    res_.set(http::field::cache_control,
             IsSafeHeaderValue(reply.cache_control) && !reply.cache_control.empty()
                 ? reply.cache_control
                 : std::string("no-store"));
    res_.set("X-Content-Type-Options", "nosniff");
    if (reply.content_type.empty() || !IsSafeHeaderValue(reply.content_type)) {
      reply.content_type = "application/octet-stream";
    }
    res_.set(http::field::content_type, reply.content_type);
    if (reply.status == 204 || reply.status == 304) {
      // HTTP forbids a body here (Beast would throw on one).
      res_.body().clear();
    } else if (!reply.raw_body.empty()) {
      res_.body() = std::move(reply.raw_body);
    } else {
      res_.body() = reply.body.isNull() ? std::string("{}") : json::Write(reply.body);
    }
    res_.keep_alive(after == After::kKeepAlive);
    res_.prepare_payload();
    LogRequest(reply.status, reply.route);
    ++served_;

    Lowest().expires_after(limits().body_timeout);
    http::async_write(
        stream_, res_,
        beast::bind_front_handler(&Session::OnWrite, this->shared_from_this(), after));
  }

  void OnWrite(After after, ErrorCode ec, std::size_t) {
    if (ec) return;
    res_ = http::response<http::string_body>();
    switch (after) {
      case After::kKeepAlive:
        return ReadHeader();
      case After::kClose:
        return Shutdown();
      case After::kLingerThenClose:
        return Linger();
    }
  }

  void Shutdown() {
    if constexpr (kTls) {
      Lowest().expires_after(kShutdownTime);
      stream_.async_shutdown(
          beast::bind_front_handler(&Session::OnShutdown, this->shared_from_this()));
    } else {
      ErrorCode ignored;
      Lowest().socket().shutdown(net::socket_base::shutdown_send, ignored);
    }
  }

  void OnShutdown(ErrorCode) {
    // Whatever the peer did, the session ends and the socket closes.
  }

  void Linger() {
    // Below TLS on purpose: what is read is thrown away, and a TCP FIN is
    // enough for the client to see the reply is complete (Content-Length).
    ErrorCode ignored;
    Lowest().socket().shutdown(net::socket_base::shutdown_send, ignored);
    Lowest().expires_after(kLingerTime);
    DrainSome();
  }

  void DrainSome() {
    if (drained_ >= kLingerMaxBytes) return;
    if (!drain_buffer_) drain_buffer_ = std::make_unique<std::array<char, 4096>>();
    Lowest().async_read_some(
        net::buffer(*drain_buffer_),
        beast::bind_front_handler(&Session::OnDrain, this->shared_from_this()));
  }

  void OnDrain(ErrorCode ec, std::size_t n) {
    if (ec) return;
    drained_ += n;
    DrainSome();
  }

  std::string LoggedPath() const {
    const std::string_view target = parser_->get().target();
    return RedactPath(target.substr(0, target.find('?')));
  }

  // route, when the router matched one, stands in for the path: the path's
  // parameter values may be secrets. Other paths are redacted.
  void LogRequest(int status, const std::string& route) const {
    std::string_view method = parser_->get().method_string();
    if (method.empty()) method = "-";
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_).count();
    log::Info("http: " + std::string(method) + " " + (route.empty() ? LoggedPath() : route) + " " +
              std::to_string(status) + " source=" + source_ + " " + std::to_string(ms) + "ms");
  }

  Stream stream_;
  std::shared_ptr<Shared> shared_;
  const std::string source_;
  const bool admin_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::empty_body> continue_;
  http::response<http::string_body> res_;
  Clock::time_point started_ = Clock::now();
  std::int64_t arrived_at_ = 0;
  TrafficClass class_ = TrafficClass::kApi;
  std::uint64_t served_ = 0;  // replies written on this connection
  std::unique_ptr<std::array<char, 4096>> drain_buffer_;
  std::size_t drained_ = 0;
  // The connection (and its place in the caps) went to a WebSocketConnection.
  bool handed_off_ = false;
};

// The admin socket's directory decides who can replace the socket file, so
// it must be ours (or root's) and closed to writes by others.
Status CheckSocketDir(const std::string& dir) {
  SafePathOptions options;
  options.type = SafePathOptions::Type::kDirectory;
  options.also_owned_by = {0};
  options.forbidden_bits = 022;
  options.subject = "admin socket directory";
  options.consequence = "whoever can write there can replace gatectl's socket";
  return CheckSafeDir(dir, ::geteuid(), options);
}

}  // namespace

std::string FitCloseReason(std::string reason) {
  constexpr std::size_t kMaxReason = 123;  // a close frame's payload is <= 125
  if (reason.size() <= kMaxReason) return reason;
  std::size_t cut = kMaxReason;
  // Back to the first byte of the character the limit falls in (UTF-8
  // continuation bytes are 10xxxxxx).
  while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80) --cut;
  reason.resize(cut);
  return reason;
}

struct HttpServer::Impl {
  Impl(HttpServerOptions options, Handler public_handler, Handler admin_handler)
      : ioc(std::max(1, options.threads)), shared(std::make_shared<Shared>(std::move(options))) {
    shared->public_handler = std::move(public_handler);
    shared->admin_handler = std::move(admin_handler);
  }

  Status Validate() const;
  Status StartTcp();
  Status StartUnix();
  void CloseListeners();

  void AcceptTcp();
  void OnTcpAccept(ErrorCode ec, tcp::socket socket);
  void AcceptUnix();
  void OnUnixAccept(ErrorCode ec, UnixProtocol::socket socket);
  void RunLoop();
  // Every kMemoryTrimInterval, ReturnFreeMemory (memory_trim.h).
  void ScheduleMemoryTrim();
  // Logs refused connections, at most one line per kRefusalLogInterval.
  void NoteRefusal(ConnectionTable::Verdict verdict, const std::string& source);

  // First member: destroyed last, after everything that registered with it.
  net::io_context ioc;
  std::shared_ptr<Shared> shared;
  std::optional<ssl::context> tls;
  tcp::acceptor tcp_acceptor{ioc};
  UnixProtocol::acceptor unix_acceptor{ioc};
  net::steady_timer tcp_retry{ioc};
  net::steady_timer unix_retry{ioc};
  net::steady_timer memory_trim{ioc};
  // SIGINT/SIGTERM stop the server. Installed by Start(), before the caller
  // can announce that it serves: a stop signal that arrives between that
  // announcement and Run() is held and acted on by Run(), never fatal.
  std::optional<net::signal_set> stop_signals;
  std::uint16_t port = 0;
  bool started = false;
  // Refused connections since the last log line (accept loop only).
  int refused = 0;
  std::string last_refused;
  Clock::time_point next_refusal_log{};
  // The socket file Start() made, so only that one is removed.
  UnixListener admin_listener;
};

Status HttpServer::Impl::Validate() const {
  const HttpServerOptions& o = shared->options;
  if (o.listen_host.empty() && o.admin_socket_path.empty()) {
    return InvalidArgument("neither a TCP listen address nor an admin socket is configured");
  }
  if (o.threads < 1 || o.threads > 256) return InvalidArgument("threads must be 1..256");
  if (o.max_body_bytes == 0) return InvalidArgument("max_body_bytes must be positive");
  const ServingLimits& l = o.limits;
  if (l.worker_threads < 1) return InvalidArgument("worker_threads must be positive");
  for (const ClassLimits* c : {&l.login, &l.node, &l.upload, &l.api, &l.admin}) {
    if (c->concurrency < 1 || c->queue < 0) {
      return InvalidArgument(
          "every traffic class needs a concurrency of at least 1 and a queue >= 0");
    }
  }
  for (auto t :
       {l.handshake_timeout, l.header_timeout, l.body_timeout, l.idle_timeout, l.queue_timeout}) {
    if (t.count() <= 0) return InvalidArgument("every timeout must be positive");
  }
  if (l.max_connections < 1 || l.max_connections_per_source < 1) {
    return InvalidArgument("max_connections and max_connections_per_source must be positive");
  }
  if (l.connection_reserve < 0 || l.connection_reserve >= l.max_connections) {
    return InvalidArgument("connection_reserve must be 0..max_connections-1");
  }
  if (!o.listen_host.empty()) {
    if (o.tls_cert_file.empty() || o.tls_key_file.empty()) {
      return InvalidArgument("the HTTPS listener needs a TLS certificate and key file");
    }
    if (!shared->public_handler) return InvalidArgument("no handler for the HTTPS listener");
  }
  if (!o.admin_socket_path.empty()) {
    if (o.admin_uids.empty()) return InvalidArgument("admin socket configured with no admin uids");
    if (!shared->admin_handler) return InvalidArgument("no handler for the admin socket");
  }
  return Status::Ok();
}

Status HttpServer::Impl::StartTcp() {
  const HttpServerOptions& o = shared->options;
  tls.emplace(ssl::context::tls_server);
  GATE_RETURN_IF_ERROR(
      ConfigureTlsServerContext(tls->native_handle(), o.tls_cert_file, o.tls_key_file));

  ErrorCode ec;
  net::ip::address address = net::ip::make_address(o.listen_host, ec);
  if (ec) {
    tcp::resolver resolver(ioc);
    auto results =
        resolver.resolve(o.listen_host, std::to_string(o.listen_port), tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return InvalidArgument("cannot resolve listen address " + o.listen_host + ": " +
                             ec.message());
    }
    address = results.begin()->endpoint().address();
  }
  const tcp::endpoint endpoint(address, o.listen_port);
  const std::string where = o.listen_host + ":" + std::to_string(o.listen_port);
  tcp_acceptor.open(endpoint.protocol(), ec);
  if (!ec) SetCloseOnExec(tcp_acceptor.native_handle());
  if (!ec) tcp_acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) tcp_acceptor.bind(endpoint, ec);
  if (!ec) tcp_acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Unavailable("cannot listen on " + where + ": " + ec.message());
  port = tcp_acceptor.local_endpoint(ec).port();
  if (ec) return Unavailable("cannot read the bound port of " + where + ": " + ec.message());
  return Status::Ok();
}

Status HttpServer::Impl::StartUnix() {
  const std::string& path = shared->options.admin_socket_path;
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return InvalidArgument("admin socket path is longer than " +
                           std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes: " + path);
  }
  GATE_RETURN_IF_ERROR(CheckSocketDir(DirName(path)));
  auto listener = ListenUnix(path, 0600);
  if (!listener) {
    // A live server on the path is a precondition failure here, like any
    // other file in the way (the contract in http_server.h).
    if (listener.error().code() == Code::kAlreadyExists) {
      return FailedPrecondition(listener.error().message());
    }
    return listener.error();
  }
  admin_listener = std::move(*listener);
  ErrorCode ec;
  unix_acceptor.assign(UnixProtocol(), admin_listener.fd.get(), ec);
  if (ec) return Unavailable("cannot serve the admin socket " + path + ": " + ec.message());
  // The acceptor owns the descriptor now; admin_listener keeps the file's
  // identity for RemoveListenerFile.
  (void)admin_listener.fd.Release();
  return Status::Ok();
}

void HttpServer::Impl::CloseListeners() {
  ErrorCode ignored;
  tcp_acceptor.close(ignored);
  unix_acceptor.close(ignored);
  RemoveListenerFile(admin_listener);
  admin_listener = UnixListener{};
}

void HttpServer::Impl::AcceptTcp() {
  tcp_acceptor.async_accept(net::make_strand(ioc), [this](ErrorCode ec, tcp::socket socket) {
    OnTcpAccept(ec, std::move(socket));
  });
}

void HttpServer::Impl::OnTcpAccept(ErrorCode ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted) return;
  if (ec) {
    // EMFILE and friends: retrying at once would spin on the same error.
    log::Warning("http: accept failed: " + ec.message());
    tcp_retry.expires_after(kAcceptRetryDelay);
    tcp_retry.async_wait([this](ErrorCode wait_ec) {
      if (!wait_ec) AcceptTcp();
    });
    return;
  }
  SetCloseOnExec(socket.native_handle());
  // A reply leaves as several small TLS records; with Nagle on, the last one
  // waits for the client's delayed ACK, adding 40 ms to every request (found
  // measuring pam_gate's central OTP: /v1/ping took 44 ms on loopback, 3 ms
  // with this). Failure only costs latency, so it is not fatal.
  ErrorCode nodelay_ec;
  socket.set_option(tcp::no_delay(true), nodelay_ec);
  ErrorCode ep_ec;
  net::ip::address peer = socket.remote_endpoint(ep_ec).address();
  if (!ep_ec) {
    if (peer.is_v6() && peer.to_v6().is_v4_mapped()) {
      peer = net::ip::make_address_v4(net::ip::v4_mapped, peer.to_v6());
    }
    std::string source = peer.to_string();
    // Over a cap the connection is closed at once: holding it open would
    // spend a descriptor on a client we will not serve.
    const ConnectionTable::Verdict verdict = shared->connections.Admit(source);
    if (verdict == ConnectionTable::Verdict::kAdmit) {
      std::make_shared<Session<TlsStream>>(shared, std::move(source), false, std::move(socket),
                                           *tls)
          ->Start();
    } else {
      NoteRefusal(verdict, source);
      socket.close(ec);
    }
  }
  AcceptTcp();
}

void HttpServer::Impl::NoteRefusal(ConnectionTable::Verdict verdict, const std::string& source) {
  ++refused;
  const ServingLimits& l = shared->options.limits;
  switch (verdict) {
    case ConnectionTable::Verdict::kFull:
      last_refused = "max_connections (" + std::to_string(l.max_connections) + ") reached";
      break;
    case ConnectionTable::Verdict::kSourceFull:
      last_refused = source + " holds max_connections_per_source (" +
                     std::to_string(l.max_connections_per_source) + ")";
      break;
    default:
      last_refused = "the last " + std::to_string(l.connection_reserve) +
                     " connections are reserved for new sources; " + source + " has some open";
      break;
  }
  const Clock::time_point now = Clock::now();
  if (now < next_refusal_log) return;
  log::Warning("http: refused " + std::to_string(refused) +
               " connection(s) over the caps; last: " + last_refused);
  refused = 0;
  next_refusal_log = now + kRefusalLogInterval;
}

void HttpServer::Impl::AcceptUnix() {
  unix_acceptor.async_accept(
      net::make_strand(ioc),
      [this](ErrorCode ec, UnixProtocol::socket socket) { OnUnixAccept(ec, std::move(socket)); });
}

void HttpServer::Impl::OnUnixAccept(ErrorCode ec, UnixProtocol::socket socket) {
  if (ec == net::error::operation_aborted) return;
  if (ec) {
    log::Warning("http: admin socket accept failed: " + ec.message());
    unix_retry.expires_after(kAcceptRetryDelay);
    unix_retry.async_wait([this](ErrorCode wait_ec) {
      if (!wait_ec) AcceptUnix();
    });
    return;
  }
  SetCloseOnExec(socket.native_handle());
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
      len != sizeof(cred)) {
    log::Warning(std::string("http: admin socket: cannot read peer credentials: ") +
                 std::strerror(errno));
    socket.close(ec);
  } else if (std::find(shared->options.admin_uids.begin(), shared->options.admin_uids.end(),
                       cred.uid) == shared->options.admin_uids.end()) {
    log::Warning("http: admin socket: refused uid " + std::to_string(cred.uid) + " (pid " +
                 std::to_string(cred.pid) + "): not an admin uid");
    socket.close(ec);
  } else {
    std::make_shared<Session<UnixStream>>(shared, "unix:" + std::to_string(cred.uid), true,
                                          std::move(socket))
        ->Start();
  }
  AcceptUnix();
}

void HttpServer::Impl::ScheduleMemoryTrim() {
  memory_trim.expires_after(kMemoryTrimInterval);
  memory_trim.async_wait([this](ErrorCode ec) {
    if (ec) return;
    (void)ReturnFreeMemory();
    ScheduleMemoryTrim();
  });
}

void HttpServer::Impl::RunLoop() {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      // A throwing completion handler loses its own connection only.
      log::Error(std::string("http: event loop: ") + e.what());
    } catch (...) {
      log::Error("http: event loop: unknown exception");
    }
  }
}

HttpServer::HttpServer(HttpServerOptions options, Handler public_handler, Handler admin_handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(public_handler),
                                   std::move(admin_handler))) {}

HttpServer::~HttpServer() { impl_->CloseListeners(); }

Status HttpServer::Start() {
  Impl& s = *impl_;
  if (s.started) return FailedPrecondition("HttpServer::Start called twice");
  GATE_RETURN_IF_ERROR(s.Validate());
  const HttpServerOptions& o = s.shared->options;
  Status status;
  try {
    if (!o.listen_host.empty()) status = s.StartTcp();
    if (status.ok() && !o.admin_socket_path.empty()) status = s.StartUnix();
  } catch (const std::exception& e) {
    status = Internal(std::string("cannot start the HTTP server: ") + e.what());
  }
  if (!status.ok()) {
    s.CloseListeners();
    return status;
  }
  s.started = true;
  s.stop_signals.emplace(s.ioc);
  ErrorCode ec;
  s.stop_signals->add(SIGINT, ec);
  s.stop_signals->add(SIGTERM, ec);
  s.stop_signals->async_wait([&s](const ErrorCode& wait_ec, int signal_number) {
    if (wait_ec) return;
    log::Info("http: signal " + std::to_string(signal_number) + " received, stopping");
    s.ioc.stop();
  });
  s.ScheduleMemoryTrim();
  if (s.tcp_acceptor.is_open()) {
    s.AcceptTcp();
    log::Info("http: serving HTTPS on " + o.listen_host + ":" + std::to_string(s.port));
  }
  if (s.unix_acceptor.is_open()) {
    s.AcceptUnix();
    log::Info("http: serving admin requests on " + o.admin_socket_path);
  }
  return Status::Ok();
}

std::uint16_t HttpServer::port() const { return impl_->port; }

void HttpServer::Run() {
  Impl& s = *impl_;
  if (!s.started) {
    log::Error("http: Run() without a successful Start()");
    return;
  }
  std::vector<std::thread> pool;
  try {
    s.shared->workers.Start();
    for (int i = 1; i < s.shared->options.threads; ++i) pool.emplace_back([&s] { s.RunLoop(); });
  } catch (const std::exception& e) {
    log::Error(std::string("http: cannot start threads: ") + e.what());
  }
  s.RunLoop();
  for (std::thread& t : pool) t.join();
  // Before the io_context goes: queued jobs hold sessions, whose sockets
  // belong to it.
  s.shared->workers.Stop();
}

void HttpServer::Stop() { impl_->ioc.stop(); }

}  // namespace gate::ca
