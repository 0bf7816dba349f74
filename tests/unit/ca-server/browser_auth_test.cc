// The Origin and CSRF rules for browser requests (api/browser_auth.h), as a
// decision table over methods, Origin values and CSRF tokens.
#include "ca-server/api/browser_auth.h"

#include <gtest/gtest.h>

#include "gate/bytes.h"

namespace gate::ca {
namespace {

constexpr char kOrigin[] = "https://gate.test:3080";
constexpr char kCsrf[] = "the-csrf-token";

WebSessionRecord Session() {
  WebSessionRecord s;
  s.id_hash = "id";
  s.user = "alice";
  s.csrf_hash = HexEncode(Sha256(kCsrf));
  return s;
}

HttpRequest Req(std::string method, std::string origin, std::string csrf) {
  HttpRequest r;
  r.method = std::move(method);
  r.origin = std::move(origin);
  r.csrf_token = std::move(csrf);
  return r;
}

TEST(BrowserAuthTest, BrowserOriginIsWhatABrowserSends) {
  EXPECT_EQ(BrowserOrigin({"gate.test", 3080}), "https://gate.test:3080");
  EXPECT_EQ(BrowserOrigin({"Gate.Test", 3080}), "https://gate.test:3080");
  EXPECT_EQ(BrowserOrigin({"gate.test", 443}), "https://gate.test");
  EXPECT_EQ(BrowserOrigin({"::1", 3080}), "https://[::1]:3080");
}

TEST(BrowserAuthTest, DecisionTable) {
  struct Row {
    const char* method;
    std::string origin;
    std::string csrf;
    Code want;
    std::string_view message;
  };
  const std::string other = "https://evil.test";
  const Row rows[] = {
      // Reads need the cookie only.
      {"GET", "", "", Code::kOk, ""},
      {"GET", other, "", Code::kOk, ""},
      {"HEAD", "", "", Code::kOk, ""},
      // Writes need the origin, then the token.
      {"POST", kOrigin, kCsrf, Code::kOk, ""},
      {"DELETE", kOrigin, kCsrf, Code::kOk, ""},
      {"PUT", kOrigin, kCsrf, Code::kOk, ""},
      {"PATCH", kOrigin, kCsrf, Code::kOk, ""},
      {"POST", "", kCsrf, Code::kPermissionDenied, kCrossOrigin},
      {"POST", "null", kCsrf, Code::kPermissionDenied, kCrossOrigin},
      {"POST", other, kCsrf, Code::kPermissionDenied, kCrossOrigin},
      {"POST", "http://gate.test:3080", kCsrf, Code::kPermissionDenied, kCrossOrigin},
      {"POST", "https://gate.test:3081", kCsrf, Code::kPermissionDenied, kCrossOrigin},
      {"POST", std::string(kOrigin) + ", " + kOrigin, kCsrf, Code::kPermissionDenied, kCrossOrigin},
      {"POST", kOrigin, "", Code::kPermissionDenied, kBadCsrf},
      {"POST", kOrigin, "wrong", Code::kPermissionDenied, kBadCsrf},
      {"POST", kOrigin, std::string(kCsrf) + ", " + kCsrf, Code::kPermissionDenied, kBadCsrf},
      {"DELETE", kOrigin, "", Code::kPermissionDenied, kBadCsrf},
      {"POST", other, "", Code::kPermissionDenied, kCrossOrigin},
  };
  for (const Row& row : rows) {
    Status s = CheckBrowserRequest(Req(row.method, row.origin, row.csrf), kOrigin, Session());
    EXPECT_EQ(s.code(), row.want) << row.method << " origin=" << row.origin << " csrf=" << row.csrf;
    if (!s.ok()) {
      EXPECT_EQ(s.message(), row.message) << row.method << " origin=" << row.origin;
    }
  }
}

TEST(BrowserAuthTest, SameOriginCheckForPostsWithoutASession) {
  EXPECT_TRUE(CheckSameOrigin(Req("POST", kOrigin, ""), kOrigin).ok());
  EXPECT_EQ(CheckSameOrigin(Req("POST", "", ""), kOrigin).code(), Code::kPermissionDenied);
  EXPECT_EQ(CheckSameOrigin(Req("POST", "https://gate.test:3080/", ""), kOrigin).code(),
            Code::kPermissionDenied);
}

TEST(BrowserAuthTest, HasSessionCookie) {
  HttpRequest r;
  EXPECT_FALSE(HasSessionCookie(r));
  r.cookie = "a=1";
  EXPECT_FALSE(HasSessionCookie(r));
  r.cookie = "a=1; __Host-gate_session=abc";
  EXPECT_TRUE(HasSessionCookie(r));
  r.cookie = "__Host-gate_session=abc; __Host-gate_session=abc";
  EXPECT_TRUE(HasSessionCookie(r));  // judged (and refused) as a browser's
  EXPECT_EQ(BrowserAuth::SessionId(r), std::nullopt);
}

}  // namespace
}  // namespace gate::ca
