#include "cli/common/sso_callback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <utility>

namespace gate::cli {
namespace {

constexpr std::string_view kDonePage =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>gate</title></head>"
    "<body><p>gate: the login is finished. You can close this tab and go back to the "
    "terminal.</p></body></html>\n";
constexpr std::string_view kFailedPage =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>gate</title></head>"
    "<body><p>gate: the login failed; the terminal says why.</p></body></html>\n";

void Answer(int fd, std::string_view status, std::string_view body) {
  std::string reply = "HTTP/1.1 " + std::string(status) +
                      "\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\n"
                      "Referrer-Policy: no-referrer\r\nConnection: close\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
  std::size_t sent = 0;
  while (sent < reply.size()) {
    const ssize_t n = ::send(fd, reply.data() + sent, reply.size() - sent, MSG_NOSIGNAL);
    if (n <= 0 && errno != EINTR) return;
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
}

// The request head of one connection, read until the blank line, with a
// deadline; empty on timeout, error or oversize.
std::string ReadHead(int fd, std::chrono::steady_clock::time_point deadline) {
  std::string head;
  char buf[1024];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < kMaxCallbackRequestBytes) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return "";
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return "";
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return "";
    head.append(buf, static_cast<std::size_t>(n));
  }
  return head.size() < kMaxCallbackRequestBytes ? head : "";
}

}  // namespace

Result<std::string> DecodeQueryValue(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size()) {
        return Err(InvalidArgument("bad percent-encoding"));
      }
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      const int hi = hex(text[i + 1]);
      const int lo = hex(text[i + 2]);
      if (hi < 0 || lo < 0) return Err(InvalidArgument("bad percent-encoding"));
      const char decoded = static_cast<char>(hi * 16 + lo);
      if (static_cast<unsigned char>(decoded) < 0x20 || decoded == 0x7f) {
        return Err(InvalidArgument("control character in the answer"));
      }
      out += decoded;
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

Result<SsoCallbackListener> SsoCallbackListener::Open() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Err(Unavailable(std::string("socket: ") + std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(fd.get(), 4) != 0) {
    return Err(Unavailable(std::string("cannot listen on 127.0.0.1: ") + std::strerror(errno)));
  }
  socklen_t len = sizeof(addr);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return Err(Unavailable(std::string("getsockname: ") + std::strerror(errno)));
  }
  return SsoCallbackListener(std::move(fd), ntohs(addr.sin_port));
}

Result<std::string> SsoCallbackListener::Wait(std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  UniqueFd listener = std::move(fd_);
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{listener.get(), POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn.valid()) continue;
    // A browser sends its request at once; a connection that does not may
    // not hold the listener up for long.
    const std::string head =
        ReadHead(conn.get(),
                 std::min(deadline, std::chrono::steady_clock::now() + std::chrono::seconds(10)));
    const std::string_view prefix = "GET /callback?";
    if (head.compare(0, prefix.size(), prefix) != 0) {
      Answer(conn.get(), "404 Not Found", "");
      continue;
    }
    const std::size_t end = head.find(' ', prefix.size());
    if (end == std::string::npos) {
      Answer(conn.get(), "400 Bad Request", "");
      continue;
    }
    std::map<std::string, std::string> params;
    std::string_view query(head.data() + prefix.size(), end - prefix.size());
    while (!query.empty()) {
      const std::size_t amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      const std::size_t eq = pair.find('=');
      if (eq == std::string_view::npos) continue;
      auto value = DecodeQueryValue(pair.substr(eq + 1));
      if (value) params[std::string(pair.substr(0, eq))] = *value;
    }
    if (auto it = params.find("code"); it != params.end() && !it->second.empty()) {
      Answer(conn.get(), "200 OK", kDonePage);
      return it->second;
    }
    Answer(conn.get(), "200 OK", kFailedPage);
    auto error = params.find("error");
    return Err(Unauthenticated("single sign-on failed: " +
                               (error == params.end() ? std::string("no answer") : error->second)));
  }
  return Err(Unavailable("no answer from the browser within " + std::to_string(timeout.count()) +
                         " s; run gate login again"));
}

}  // namespace gate::cli
