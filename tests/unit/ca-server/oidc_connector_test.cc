// Connectors at start (client secrets read through the secret-file check)
// and the authorization URL a login starts at.
#include "ca-server/connectors/oidc_connector.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace gate::ca {
namespace {

class ConnectorsLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gate-connectors-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string WriteSecret(const std::string& text, mode_t mode) {
    const std::string path = dir_ + "/secret";
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
    return path;
  }

  AuthenticationConfig Auth(const std::string& secret_file) {
    AuthenticationConfig a;
    ConnectorConfig c;
    c.name = "corp";
    c.type = "oidc";
    c.oidc.issuer_url = "https://idp.test";
    c.oidc.client_id = "gate";
    c.oidc.client_secret_file = secret_file;
    c.oidc.redirect_url = "https://gate.test/v1/sso/oidc/callback";
    c.oidc.claims_to_roles = {{"groups", "ops", {"access"}}};
    c.oidc.acr_values = {"mfa", "hwk"};
    c.oidc.prompt = "login";
    a.connectors.push_back(c);
    return a;
  }

  Result<std::unique_ptr<Connectors>> Load(const std::string& secret_file) {
    return Connectors::Load(Auth(secret_file), nullptr, [] { return std::int64_t{0}; },
                            {::geteuid()});
  }

  std::string dir_;
};

TEST_F(ConnectorsLoadTest, ReadsAPrivateSecretFile) {
  auto c = Load(WriteSecret("s3cret\n", 0600));
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  ASSERT_NE((*c)->Find("corp"), nullptr);
  EXPECT_EQ((*c)->Find("other"), nullptr);
  EXPECT_EQ((*c)->names(), std::vector<std::string>{"corp"});
}

TEST_F(ConnectorsLoadTest, RefusesReadableMissingOrEmptySecrets) {
  auto readable = Load(WriteSecret("s3cret", 0644));
  ASSERT_FALSE(readable.has_value());
  EXPECT_EQ(readable.error().code(), Code::kPermissionDenied);
  EXPECT_NE(readable.error().message().find("connector corp client secret"), std::string::npos)
      << readable.error().message();
  EXPECT_NE(readable.error().message().find("chmod"), std::string::npos)
      << readable.error().message();
  auto missing = Load(dir_ + "/nope");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
  auto empty = Load(WriteSecret("\n", 0600));
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code(), Code::kInvalidArgument);
  // Owned by someone else: refused.
  const std::string path = WriteSecret("s3cret", 0600);
  auto other =
      Connectors::Load(Auth(path), nullptr, [] { return std::int64_t{0}; }, {::geteuid() + 1});
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code(), Code::kPermissionDenied);
}

TEST(FormEncodeTest, EscapesEveryReservedByte) {
  EXPECT_EQ(FormEncode({{"a b", "c&d=e"}, {"scope", "openid email"}}),
            "a%20b=c%26d%3De&scope=openid%20email");
}

}  // namespace
}  // namespace gate::ca
