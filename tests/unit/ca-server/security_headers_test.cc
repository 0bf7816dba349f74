// The security headers of public replies (api/security_headers.h).
#include "ca-server/api/security_headers.h"

#include <gtest/gtest.h>

#include <string>

namespace gate::ca {
namespace {

std::string Header(const HttpReply& reply, const std::string& name) {
  std::string found;
  int count = 0;
  for (const auto& [n, v] : reply.headers) {
    if (n == name) {
      found = v;
      ++count;
    }
  }
  EXPECT_LE(count, 1) << name;
  return found;
}

TEST(SecurityHeadersTest, JsonRepliesGetEveryHeader) {
  HttpReply reply;
  AddSecurityHeaders(reply, /*is_html=*/false, /*hsts=*/true);
  EXPECT_EQ(Header(reply, "Content-Security-Policy"), "default-src 'none'; frame-ancestors 'none'");
  EXPECT_EQ(Header(reply, "Referrer-Policy"), "no-referrer");
  EXPECT_EQ(Header(reply, "X-Frame-Options"), "DENY");
  EXPECT_EQ(Header(reply, "Strict-Transport-Security"), "max-age=31536000");
}

TEST(SecurityHeadersTest, NoHstsOnASelfSignedCertificate) {
  HttpReply reply;
  AddSecurityHeaders(reply, /*is_html=*/false, /*hsts=*/false);
  EXPECT_EQ(Header(reply, "Strict-Transport-Security"), "");
  EXPECT_EQ(Header(reply, "Referrer-Policy"), "no-referrer");
}

TEST(SecurityHeadersTest, APagesOwnPolicyIsKept) {
  HttpReply reply;
  reply.headers.emplace_back("content-security-policy", "default-src 'none'; script-src 'self'");
  AddSecurityHeaders(reply, /*is_html=*/false, /*hsts=*/false);
  EXPECT_EQ(Header(reply, "content-security-policy"), "default-src 'none'; script-src 'self'");
  EXPECT_EQ(Header(reply, "Content-Security-Policy"), "");
}

}  // namespace
}  // namespace gate::ca
