#include "ca-server/api/security_headers.h"

#include <boost/beast/core/string.hpp>
#include <string>

namespace gate::ca {
namespace {

void AddIfAbsent(HttpReply& reply, std::string_view name, std::string_view value) {
  for (const auto& header : reply.headers) {
    if (boost::beast::iequals(header.first, name)) return;
  }
  reply.headers.emplace_back(std::string(name), std::string(value));
}

}  // namespace

void AddSecurityHeaders(HttpReply& reply, bool is_html, bool hsts) {
  AddIfAbsent(reply, "Content-Security-Policy",
              is_html ? kHtmlContentSecurityPolicy : kJsonContentSecurityPolicy);
  AddIfAbsent(reply, "Referrer-Policy", "no-referrer");
  AddIfAbsent(reply, "X-Frame-Options", "DENY");
  if (hsts) AddIfAbsent(reply, "Strict-Transport-Security", kStrictTransportSecurity);
}

}  // namespace gate::ca
