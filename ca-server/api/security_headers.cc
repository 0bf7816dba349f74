#include "ca-server/api/security_headers.h"

#include <string>

namespace gate::ca {

void AddSecurityHeaders(HttpReply& reply, bool is_html, bool hsts) {
  reply.headers.emplace_back(
      "Content-Security-Policy",
      std::string(is_html ? kHtmlContentSecurityPolicy : kJsonContentSecurityPolicy));
  reply.headers.emplace_back("Referrer-Policy", "no-referrer");
  reply.headers.emplace_back("X-Frame-Options", "DENY");
  if (hsts) {
    reply.headers.emplace_back("Strict-Transport-Security", std::string(kStrictTransportSecurity));
  }
}

}  // namespace gate::ca
