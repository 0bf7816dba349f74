#include "ca-server/api/session_cookie.h"

#include <algorithm>

namespace gate::ca {
namespace {

constexpr std::string_view kAttributes = "; Path=/; Max-Age=";
constexpr std::string_view kFlags = "; Secure; HttpOnly; SameSite=Strict";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsBase64Url(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

}  // namespace

Result<std::optional<std::string>> SessionCookieValue(std::string_view header) {
  return CookieValue(header, kSessionCookieName);
}

Result<std::optional<std::string>> CookieValue(std::string_view header, std::string_view name) {
  std::optional<std::string> found;
  while (!header.empty()) {
    const std::size_t semi = header.find(';');
    const std::string_view pair = Trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos || Trim(pair.substr(0, eq)) != name) continue;
    const std::string what =
        name == kSessionCookieName ? "the session cookie" : "the cookie " + std::string(name);
    if (found) return Err(InvalidArgument(what + " is sent more than once"));
    std::string_view value = Trim(pair.substr(eq + 1));
    // RFC 6265 allows a value in double quotes; ids never need them.
    if (!IsBase64Url(value)) return Err(InvalidArgument(what + " is malformed"));
    found = std::string(value);
  }
  return found;
}

std::string SessionCookie(std::string_view session_id, std::chrono::seconds max_age) {
  std::string out(kSessionCookieName);
  out += '=';
  out += session_id;
  out += kAttributes;
  out += std::to_string(std::max<std::int64_t>(max_age.count(), 0));
  out += kFlags;
  return out;
}

std::string ExpiredSessionCookie() { return SessionCookie("", std::chrono::seconds(0)); }

}  // namespace gate::ca
