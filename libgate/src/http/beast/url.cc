#include "http/beast/url.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>

namespace gate::http {
namespace {

bool VisibleAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

bool IsIpv4(const std::string& s) {
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool IsIpv6(const std::string& s) {
  in6_addr a{};
  return inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

// Letters, digits, '-', '_' and '.': what DNS names and /etc/hosts entries use.
bool ValidHostName(std::string_view s) {
  return !s.empty() && s.size() <= 253 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

bool ValidPort(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  if (!std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  const int port = std::stoi(std::string(s));
  return port >= 1 && port <= 65535;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Result<Url> ParseUrl(std::string_view base_url, std::string_view target) {
  auto bad = [](const std::string& why) { return Err(InvalidArgument("bad URL: " + why)); };
  Url url;
  const std::size_t colon_slashes = base_url.find("://");
  if (colon_slashes == std::string_view::npos) return bad("no scheme");
  const std::string scheme = Lower(base_url.substr(0, colon_slashes));
  if (scheme == "https") {
    url.tls = true;
  } else if (scheme != "http") {
    return bad("unsupported scheme '" + scheme + "' (only https and http)");
  }
  std::string_view rest = base_url.substr(colon_slashes + 3);
  const std::size_t authority_end = std::min(rest.find('/'), rest.size());
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view path = rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) return bad("user info is not supported");
  if (path.find_first_of("?#") != std::string_view::npos || !VisibleAscii(path)) {
    return bad("the base URL's path must be a plain path");
  }

  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 address");
    url.host = std::string(authority.substr(1, close - 1));
    if (!IsIpv6(url.host)) return bad("invalid IPv6 address");
    url.host_is_ip = true;
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("junk after the IPv6 address");
      port = after.substr(1);
      if (!ValidPort(port)) return bad("invalid port");
    }
  } else {
    const std::size_t c = authority.find(':');
    url.host = Lower(authority.substr(0, c));
    if (c != std::string_view::npos) {
      port = authority.substr(c + 1);
      if (!ValidPort(port)) return bad("invalid port");
    }
    if (!ValidHostName(url.host)) return bad("invalid host name");
    url.host_is_ip = IsIpv4(url.host);
  }
  const std::string_view default_port = url.tls ? "443" : "80";
  url.port = port.empty() ? std::string(default_port) : std::string(port);
  url.host_header =
      url.host_is_ip && url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  if (url.port != default_port) url.host_header += ":" + url.port;

  // Like curl, a fragment is not sent.
  target = target.substr(0, target.find('#'));
  if (!VisibleAscii(target)) return bad("the request target has spaces or control bytes");
  url.target = std::string(path) + std::string(target);
  if (url.target.empty()) url.target = "/";
  if (url.target.front() != '/') return bad("the request target must start with '/'");
  return url;
}

}  // namespace gate::http
