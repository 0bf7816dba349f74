// The browser session cookie (api/session_cookie.h).
#include "ca-server/api/session_cookie.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gate::ca {
namespace {

const std::string kId = "abcDEF012_-abcDEF012_-abcDEF012_-abcDEF0123";

std::optional<std::string> Value(std::string_view header) {
  auto got = SessionCookieValue(header);
  EXPECT_TRUE(got.has_value()) << header;
  return got.value_or(std::nullopt);
}

TEST(SessionCookieTest, FindsTheSessionCookieAmongOthers) {
  EXPECT_EQ(Value("__Host-gate_session=" + kId), kId);
  EXPECT_EQ(Value("a=1; __Host-gate_session=" + kId + "; b=2"), kId);
  EXPECT_EQ(Value("a=1;__Host-gate_session=" + kId), kId);
  EXPECT_EQ(Value("  __Host-gate_session = " + kId + " ;"), kId);
  // Other cookies are ignored, however odd.
  EXPECT_EQ(Value("junk; =x; a=\"q;\" ; __Host-gate_session=" + kId), kId);
}

TEST(SessionCookieTest, AbsentIsNullopt) {
  EXPECT_EQ(Value(""), std::nullopt);
  EXPECT_EQ(Value("a=1; b=2"), std::nullopt);
  // Names are case-sensitive, and a prefix or suffix is another cookie.
  EXPECT_EQ(Value("__host-gate_session=" + kId), std::nullopt);
  EXPECT_EQ(Value("gate_session=" + kId), std::nullopt);
  EXPECT_EQ(Value("__Host-gate_session2=" + kId), std::nullopt);
  EXPECT_EQ(Value("x__Host-gate_session=" + kId), std::nullopt);
  EXPECT_EQ(Value("__Host-gate_session"), std::nullopt);  // no '=': not a pair
}

TEST(SessionCookieTest, DuplicatesAndMalformedValuesAreRefused) {
  for (const std::string& header :
       std::vector<std::string>{"__Host-gate_session=" + kId + "; __Host-gate_session=" + kId,
                                "__Host-gate_session=a; __Host-gate_session=" + kId,
                                "__Host-gate_session=", "__Host-gate_session=\"" + kId + "\"",
                                "__Host-gate_session=a+b/c=", "__Host-gate_session=a b"}) {
    auto got = SessionCookieValue(header);
    EXPECT_FALSE(got.has_value()) << header;
    if (!got) {
      EXPECT_EQ(got.error().code(), Code::kInvalidArgument);
    }
  }
}

TEST(SessionCookieTest, OtherCookiesByName) {
  auto v = CookieValue("__Host-gate_session=aaa; __Host-gate_sso=b-_9", "__Host-gate_sso");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, std::optional<std::string>("b-_9"));
  EXPECT_EQ(*CookieValue("__Host-gate_session=aaa", "__Host-gate_sso"), std::nullopt);
  auto twice = CookieValue("__Host-gate_sso=a; __Host-gate_sso=b", "__Host-gate_sso");
  ASSERT_FALSE(twice.has_value());
  EXPECT_EQ(twice.error().message(), "the cookie __Host-gate_sso is sent more than once");
  EXPECT_FALSE(CookieValue("__Host-gate_sso=a%3Bb", "__Host-gate_sso").has_value());
}

TEST(SessionCookieTest, SetCookieCarriesEveryAttribute) {
  EXPECT_EQ(
      SessionCookie(kId, std::chrono::seconds(43200)),
      "__Host-gate_session=" + kId + "; Path=/; Max-Age=43200; Secure; HttpOnly; SameSite=Strict");
  EXPECT_EQ(ExpiredSessionCookie(),
            "__Host-gate_session=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict");
  EXPECT_EQ(SessionCookie(kId, std::chrono::seconds(-5)).find("Max-Age=0;") != std::string::npos,
            true);
}

}  // namespace
}  // namespace gate::ca
