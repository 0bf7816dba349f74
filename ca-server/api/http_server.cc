// All of gate-ca's Beast code lives in this one translation unit: with Beast
// and Asio included this file alone takes about 90 s to compile on a 2-core
// machine, so it is kept out of headers and other files. TLS settings come
// from signer/tls_cert.h; this file makes no OpenSSL calls of its own.
#include "ca-server/api/http_server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
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
#pragma GCC diagnostic pop

#include "ca-server/signer/tls_cert.h"
#include "gate/json.h"
#include "gate/log.h"
#include "gate/unique_fd.h"

namespace gate::ca {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using UnixProtocol = net::local::stream_protocol;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using UnixStream = beast::basic_stream<UnixProtocol>;
using ErrorCode = beast::error_code;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kHeaderLimit = 16 * 1024;
constexpr std::chrono::seconds kMaxHandshakeTime{10};
constexpr std::chrono::seconds kShutdownTime{5};
// After an error reply that ends the connection the client may still be
// sending the body we refused. Closing a socket with unread input makes the
// kernel send a RST, which can destroy the reply before the client reads it;
// so half-close, then read and discard for a while (nginx's lingering close).
constexpr std::chrono::seconds kLingerTime{5};
constexpr std::size_t kLingerMaxBytes = 1 << 20;
constexpr std::size_t kMaxLoggedPath = 200;
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
// Response headers the server owns; a handler's copy of one is dropped.
constexpr std::string_view kReservedHeaders[] = {
    "server",       "cache-control",  "x-content-type-options",
    "content-type", "content-length", "transfer-encoding",
    "connection",   "keep-alive",     "upgrade",
    "trailer"};

// What every session needs. Sessions hold it by shared_ptr, so it outlives
// them however the io_context is torn down.
struct Shared {
  HttpServerOptions options;
  Handler public_handler;
  Handler admin_handler;
  std::atomic<int> tcp_connections{0};
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

// One HTTP/1.1 connection, over TLS or over the admin Unix socket. Each
// step schedules the next and holds a shared_ptr to the session, so the
// session lives exactly as long as an operation is pending on it. All steps
// run on the connection's strand.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  template <class... StreamArgs>
  Session(std::shared_ptr<Shared> shared, std::string source, bool admin,
          StreamArgs&&... stream_args)
      : stream_(std::forward<StreamArgs>(stream_args)...),
        shared_(std::move(shared)),
        source_(std::move(source)),
        admin_(admin) {
    if (!admin_) shared_->tcp_connections.fetch_add(1);
  }
  ~Session() {
    if (!admin_) shared_->tcp_connections.fetch_sub(1);
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

  void OnStart() {
    if constexpr (kTls) {
      Lowest().expires_after(std::min<Clock::duration>(kMaxHandshakeTime, options().idle_timeout));
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

  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    // The largest any route takes; OnReadHeader narrows it per request.
    parser_->body_limit(std::max(options().max_body_bytes, options().large_body_bytes));
    Lowest().expires_after(options().idle_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&Session::OnReadHeader, this->shared_from_this()));
  }

  void OnReadHeader(ErrorCode ec, std::size_t) {
    started_ = Clock::now();
    if (ec) return OnReadError(ec);
    const auto& msg = parser_->get();
    if (Status s = NarrowBodyLimit(); !s.ok()) {
      return Respond(ErrorReply(413, Code::kInvalidArgument, "request body too large"),
                     After::kLingerThenClose);
    }
    // curl and others wait (up to a second) for "100 Continue" before
    // sending a large body; a limit violation was already caught above.
    if (!parser_->is_done() && msg.version() >= 11 &&
        beast::iequals(msg[http::field::expect], "100-continue")) {
      continue_ = http::response<http::empty_body>(http::status::continue_, msg.version());
      Lowest().expires_after(options().idle_timeout);
      http::async_write(
          stream_, continue_,
          beast::bind_front_handler(&Session::OnContinueSent, this->shared_from_this()));
      return;
    }
    ReadBody();
  }

  // The body limit for this request, from its headers: a Content-Length
  // above it is refused now; a chunked body is cut off when it passes it.
  Status NarrowBodyLimit() {
    const auto& msg = parser_->get();
    std::size_t limit = options().max_body_bytes;
    if (options().large_body) {
      const std::string_view target = msg.target();
      const bool large = options().large_body(
          msg.method_string(), target.substr(0, target.find('?')), msg[http::field::authorization]);
      if (large) limit = std::max(limit, options().large_body_bytes);
    }
    const auto length = parser_->content_length();
    if (length && *length > limit) return InvalidArgument("request body too large");
    parser_->body_limit(limit);
    return Status::Ok();
  }

  void OnContinueSent(ErrorCode ec, std::size_t) {
    if (ec) return;
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return Handle();
    Lowest().expires_after(options().idle_timeout);
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
    req.source = source_;
    req.admin = admin_;
    After after = msg.keep_alive() ? After::kKeepAlive : After::kClose;

    HttpReply reply;
    if (req.path.empty() || req.path.front() != '/') {
      // Absolute-form ("http://host/x") and authority-form targets are for
      // proxies; a client that takes gate for one is confused, so it gets
      // the same treatment as malformed HTTP.
      reply = ErrorReply(400, Code::kInvalidArgument, "request target must be an absolute path");
      after = After::kClose;
    } else {
      const Handler& handler = admin_ ? shared_->admin_handler : shared_->public_handler;
      try {
        reply = handler(req);
      } catch (const std::exception& e) {
        log::Error("http: handler for " + req.method + " " + LoggedPath() + " threw: " + e.what());
        reply = ErrorReply(500, Code::kInternal, "internal error");
      } catch (...) {
        log::Error("http: handler for " + req.method + " " + LoggedPath() + " threw");
        reply = ErrorReply(500, Code::kInternal, "internal error");
      }
    }
    Respond(std::move(reply), after);
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
    res_.set(http::field::cache_control, "no-store");
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

    Lowest().expires_after(options().idle_timeout);
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
    std::string_view target = parser_->get().target();
    target = target.substr(0, target.find('?'));
    if (target.empty()) return "-";
    if (target.size() > kMaxLoggedPath)
      return std::string(target.substr(0, kMaxLoggedPath)) + "...";
    return std::string(target);
  }

  // route, when the router matched one, stands in for the path: the path's
  // parameter values may be secrets.
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
  std::unique_ptr<std::array<char, 4096>> drain_buffer_;
  std::size_t drained_ = 0;
};

std::string DirName(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// The admin socket's directory decides who can replace the socket file, so
// it must be ours (or root's) and closed to writes by others.
Status CheckSocketDir(const std::string& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return NotFound("admin socket directory " + dir + " does not exist");
    return Unavailable("cannot stat " + dir + ": " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return PermissionDenied("admin socket directory " + dir + " is not a directory");
  }
  if (st.st_uid != ::geteuid() && st.st_uid != 0) {
    return PermissionDenied("admin socket directory " + dir + " is owned by uid " +
                            std::to_string(st.st_uid) + ", not by uid " +
                            std::to_string(::geteuid()) + "; chown it");
  }
  if ((st.st_mode & 022) != 0) {
    return PermissionDenied("admin socket directory " + dir +
                            " is writable by group or others; run: chmod 700 " + dir);
  }
  return Status::Ok();
}

bool SomeoneListensOn(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
}

// Removes what a previous run left at path, but only a socket file of ours
// that nothing listens on; anything else there is somebody else's.
Status RemoveStaleSocket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Unavailable("cannot stat " + path + ": " + std::strerror(errno));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return FailedPrecondition(path + " exists and is not a socket; refusing to remove it");
  }
  if (st.st_uid != ::geteuid()) {
    return FailedPrecondition("socket " + path + " belongs to uid " + std::to_string(st.st_uid) +
                              "; refusing to remove it");
  }
  if (SomeoneListensOn(path)) {
    return FailedPrecondition("another server is listening on " + path);
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Unavailable("cannot remove stale socket " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace

struct HttpServer::Impl {
  Impl(HttpServerOptions options, Handler public_handler, Handler admin_handler)
      : ioc(std::max(1, options.threads)), shared(std::make_shared<Shared>()) {
    shared->options = std::move(options);
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

  // First member: destroyed last, after everything that registered with it.
  net::io_context ioc;
  std::shared_ptr<Shared> shared;
  std::optional<ssl::context> tls;
  tcp::acceptor tcp_acceptor{ioc};
  UnixProtocol::acceptor unix_acceptor{ioc};
  net::steady_timer tcp_retry{ioc};
  net::steady_timer unix_retry{ioc};
  std::uint16_t port = 0;
  bool started = false;
  // Identity of the socket file Start() made, so only that one is removed.
  bool made_socket = false;
  dev_t socket_dev = 0;
  ino_t socket_ino = 0;
};

Status HttpServer::Impl::Validate() const {
  const HttpServerOptions& o = shared->options;
  if (o.listen_host.empty() && o.admin_socket_path.empty()) {
    return InvalidArgument("neither a TCP listen address nor an admin socket is configured");
  }
  if (o.threads < 1 || o.threads > 256) return InvalidArgument("threads must be 1..256");
  if (o.max_body_bytes == 0) return InvalidArgument("max_body_bytes must be positive");
  if (o.idle_timeout.count() <= 0) return InvalidArgument("idle_timeout must be positive");
  if (o.max_connections < 1) return InvalidArgument("max_connections must be positive");
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
  GATE_RETURN_IF_ERROR(RemoveStaleSocket(path));

  ErrorCode ec;
  unix_acceptor.open(UnixProtocol(), ec);
  if (ec) return Unavailable("cannot create the admin socket: " + ec.message());
  SetCloseOnExec(unix_acceptor.native_handle());
  // bind() creates the file with 0777 & ~umask; there is no other way to
  // give a Unix socket its mode from birth (fchmod before bind does not
  // reach the file), and chmod after bind would leave a window.
  const mode_t old_umask = ::umask(0177);
  unix_acceptor.bind(UnixProtocol::endpoint(path), ec);
  ::umask(old_umask);
  if (ec) return Unavailable("cannot bind admin socket " + path + ": " + ec.message());
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) {
    return Internal("admin socket " + path + " vanished after bind");
  }
  made_socket = true;
  socket_dev = st.st_dev;
  socket_ino = st.st_ino;
  unix_acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Unavailable("cannot listen on admin socket " + path + ": " + ec.message());
  return Status::Ok();
}

void HttpServer::Impl::CloseListeners() {
  ErrorCode ignored;
  tcp_acceptor.close(ignored);
  unix_acceptor.close(ignored);
  if (made_socket) {
    const std::string& path = shared->options.admin_socket_path;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && st.st_dev == socket_dev && st.st_ino == socket_ino) {
      ::unlink(path.c_str());
    }
    made_socket = false;
  }
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
  // Only this accept loop adds connections, so a check then an add in the
  // session cannot overshoot.
  if (shared->tcp_connections.load() >= shared->options.max_connections) {
    log::Warning("http: connection refused: " + std::to_string(shared->options.max_connections) +
                 " connections already open");
    socket.close(ec);
  } else {
    ErrorCode ep_ec;
    net::ip::address peer = socket.remote_endpoint(ep_ec).address();
    if (!ep_ec) {
      if (peer.is_v6() && peer.to_v6().is_v4_mapped()) {
        peer = net::ip::make_address_v4(net::ip::v4_mapped, peer.to_v6());
      }
      std::make_shared<Session<TlsStream>>(shared, peer.to_string(), false, std::move(socket), *tls)
          ->Start();
    }
  }
  AcceptTcp();
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
  net::signal_set signals(s.ioc);
  ErrorCode ec;
  signals.add(SIGINT, ec);
  signals.add(SIGTERM, ec);
  signals.async_wait([&s](const ErrorCode& wait_ec, int signal_number) {
    if (wait_ec) return;
    log::Info("http: signal " + std::to_string(signal_number) + " received, stopping");
    s.ioc.stop();
  });

  std::vector<std::thread> pool;
  try {
    for (int i = 1; i < s.shared->options.threads; ++i) pool.emplace_back([&s] { s.RunLoop(); });
  } catch (const std::exception& e) {
    log::Error(std::string("http: cannot start threads: ") + e.what());
  }
  s.RunLoop();
  for (std::thread& t : pool) t.join();
}

void HttpServer::Stop() { impl_->ioc.stop(); }

}  // namespace gate::ca
