#include "ca-server/api/security_headers.h"

#include <string>

namespace gate::ca {
namespace {

bool SameName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

void AddIfAbsent(HttpReply& reply, std::string_view name, std::string_view value) {
  for (const auto& header : reply.headers) {
    if (SameName(header.first, name)) return;
  }
  reply.headers.emplace_back(std::string(name), std::string(value));
}

}  // namespace

void AddSecurityHeaders(HttpReply& reply, bool hsts) {
  AddIfAbsent(reply, "Content-Security-Policy", kJsonContentSecurityPolicy);
  AddIfAbsent(reply, "Referrer-Policy", "no-referrer");
  AddIfAbsent(reply, "X-Frame-Options", "DENY");
  if (hsts) AddIfAbsent(reply, "Strict-Transport-Security", kHstsValue);
}

}  // namespace gate::ca
