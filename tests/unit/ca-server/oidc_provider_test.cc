// The OpenID provider client (ca-server/connectors/oidc_provider.h): the
// discovery document's checks, and what is fetched when (caching, refresh
// on an unknown kid, rate limit), over a transport that answers from a
// table in the test (the real IdP over TLS is tests/integration's).
#include "ca-server/connectors/oidc_provider.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "gate/http_client.h"

namespace gate::ca {
namespace {

constexpr char kIssuer[] = "https://idp.test:8443/realm";

std::string Discovery(const std::string& issuer = kIssuer) {
  return R"({"issuer": ")" + issuer + R"(",
    "authorization_endpoint": "https://idp.test:8443/realm/auth",
    "token_endpoint": "https://idp.test:8443/realm/token",
    "jwks_uri": "https://idp.test:8443/realm/jwks",
    "response_types_supported": ["code"],
    "code_challenge_methods_supported": ["S256"],
    "id_token_signing_alg_values_supported": ["RS256", "ES256"]})";
}

// An EC P-256 key (RFC 7517 appendix A.1's example key).
constexpr char kJwks[] = R"({"keys": [{"kty": "EC", "crv": "P-256", "kid": "1",
  "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
  "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}]})";

// Answers each URL from a table; counts what was asked.
class TableTransport final : public HttpTransport {
 public:
  Result<HttpRawResponse> Perform(const HttpClientOptions& options,
                                  const HttpTransfer& transfer) const override {
    const std::string url = options.base_url + std::string(transfer.target);
    ++calls[url];
    last_ca_file = options.ca_file;
    if (down) return Err(Unavailable("cannot reach " + options.base_url + ": refused"));
    auto it = answers.find(url);
    if (it == answers.end()) return HttpRawResponse{404, "text/plain", "no"};
    return HttpRawResponse{200, "application/json", it->second};
  }
  std::map<std::string, std::string> answers;
  bool down = false;
  mutable std::map<std::string, int> calls;
  mutable std::string last_ca_file;
};

class OidcProviderTest : public ::testing::Test {
 protected:
  OidcProviderTest() {
    transport_->answers[std::string(kIssuer) + "/.well-known/openid-configuration"] = Discovery();
    transport_->answers["https://idp.test:8443/realm/jwks"] = kJwks;
  }
  OidcProvider Make() {
    OidcProviderOptions o;
    o.issuer_url = kIssuer;
    o.ca_file = "/etc/gate/idp-ca.pem";
    return OidcProvider(o, transport_, [this] { return now_; });
  }
  int Calls(const std::string& what) {
    return transport_->calls[std::string(kIssuer) + "/" + what];
  }

  std::shared_ptr<TableTransport> transport_ = std::make_shared<TableTransport>();
  std::int64_t now_ = 1'800'000'000;
};

TEST_F(OidcProviderTest, FetchesOnceAndCaches) {
  OidcProvider p = Make();
  auto meta = p.Metadata();
  ASSERT_TRUE(meta.has_value()) << meta.error().ToString();
  EXPECT_EQ(meta->token_endpoint, "https://idp.test:8443/realm/token");
  auto keys = p.Keys();
  ASSERT_TRUE(keys.has_value()) << keys.error().ToString();
  EXPECT_EQ((*keys)->size(), 1u);
  ASSERT_TRUE(p.Keys().has_value());
  EXPECT_EQ(Calls(".well-known/openid-configuration"), 1);
  EXPECT_EQ(Calls("jwks"), 1);
  EXPECT_EQ(transport_->last_ca_file, "/etc/gate/idp-ca.pem");
  // An hour later both are fetched again.
  now_ += 3600;
  ASSERT_TRUE(p.Keys().has_value());
  EXPECT_EQ(Calls(".well-known/openid-configuration"), 2);
  EXPECT_EQ(Calls("jwks"), 2);
}

TEST_F(OidcProviderTest, RefreshOnUnknownKidIsRateLimited) {
  OidcProvider p = Make();
  ASSERT_TRUE(p.Keys().has_value());
  // Within a minute of the last fetch, forged kids cost the IdP nothing.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(p.RefreshKeys().has_value());
  EXPECT_EQ(Calls("jwks"), 1);
  now_ += 61;
  ASSERT_TRUE(p.RefreshKeys().has_value());
  ASSERT_TRUE(p.RefreshKeys().has_value());
  EXPECT_EQ(Calls("jwks"), 2);
}

TEST_F(OidcProviderTest, ProviderDownIsAClearErrorAndNothingIsKept) {
  transport_->down = true;
  OidcProvider p = Make();
  auto meta = p.Metadata();
  ASSERT_FALSE(meta.has_value());
  EXPECT_EQ(meta.error().code(), Code::kUnavailable);
  EXPECT_NE(meta.error().message().find(std::string("identity provider ") + kIssuer),
            std::string::npos)
      << meta.error().message();
  transport_->down = false;
  ASSERT_TRUE(p.Keys().has_value());
  // A JWKS that turns bad later leaves the good cached keys in use until
  // they age out, and is then an error.
  transport_->answers["https://idp.test:8443/realm/jwks"] = R"({"keys": []})";
  now_ += 3600;
  auto keys = p.Keys();
  ASSERT_FALSE(keys.has_value());
  EXPECT_EQ(keys.error().code(), Code::kInvalidArgument);
}

TEST(OidcDiscoveryTest, Checks) {
  EXPECT_TRUE(ParseDiscovery(Discovery(), kIssuer).has_value());
  auto other = ParseDiscovery(Discovery("https://evil.test"), kIssuer);
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().message(),
            "discovery document is for issuer 'https://evil.test', not "
            "'https://idp.test:8443/realm'");
  auto replace = [](std::string from, std::string to) {
    std::string d = Discovery();
    d.replace(d.find(from), from.size(), to);
    return ParseDiscovery(d, kIssuer);
  };
  EXPECT_FALSE(replace("https://idp.test:8443/realm/token", "http://idp.test/token").has_value());
  EXPECT_FALSE(replace(R"(["S256"])", R"(["plain"])").has_value());
  EXPECT_FALSE(replace(R"(["RS256", "ES256"])", R"(["HS256", "none"])").has_value());
  EXPECT_FALSE(replace(R"(["code"])", R"(["token"])").has_value());
  EXPECT_FALSE(replace(R"("jwks_uri")", R"("jwks")").has_value());
  EXPECT_FALSE(ParseDiscovery("<html>", kIssuer).has_value());
}

TEST(OidcDiscoveryTest, SplitHttpsUrl) {
  auto s = SplitHttpsUrl("https://idp.test:8443/a/b?c=d");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->first, "https://idp.test:8443");
  EXPECT_EQ(s->second, "/a/b?c=d");
  EXPECT_EQ(SplitHttpsUrl("https://idp.test")->second, "/");
  for (const char* bad : {"http://idp.test/x", "https://", "https:///x", "https://a/b c",
                          "https://a/b#frag", "ftp://a"}) {
    EXPECT_FALSE(SplitHttpsUrl(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace gate::ca
