#include "ca-server/connectors/claims_mapping.h"

#include <gtest/gtest.h>

#include "gate/json.h"

namespace gate::ca {
namespace {

ConnectorConfig Corp() {
  ConnectorConfig c;
  c.name = "corp";
  c.type = "oidc";
  c.oidc.username_claim = "preferred_username";
  c.oidc.logins_claim = "unix_logins";
  c.oidc.claims_to_roles = {{"groups", "ops", {"access", "editor"}},
                            {"email", "*@example.com", {"access"}},
                            {"department", "sec[0-9]", {"auditor"}}};
  return c;
}

Json::Value Claims(const std::string& text) {
  auto v = json::Parse(text);
  EXPECT_TRUE(v.has_value()) << text;
  return v ? *v : Json::Value();
}

TEST(ClaimsMappingTest, RolesFromEveryMatchingRuleOnce) {
  auto id = MapClaims(Corp(), Claims(R"({"preferred_username": "alice", "groups": ["dev", "ops"],
      "email": "alice@example.com", "department": "sec2", "unix_logins": ["alice", "ops", "alice"]})"));
  ASSERT_TRUE(id.has_value()) << id.error().ToString();
  EXPECT_EQ(id->user, "alice");
  EXPECT_EQ(id->roles, (std::vector<std::string>{"access", "editor", "auditor"}));
  EXPECT_EQ(id->logins, (std::vector<std::string>{"alice", "ops"}));

  auto glob =
      MapClaims(Corp(), Claims(R"({"preferred_username": "bob", "email": "bob@example.com"})"));
  ASSERT_TRUE(glob.has_value());
  EXPECT_EQ(glob->roles, std::vector<std::string>{"access"});
  EXPECT_TRUE(glob->logins.empty());
}

TEST(ClaimsMappingTest, NoRoleMappedIsRefused) {
  auto id = MapClaims(Corp(), Claims(R"({"preferred_username": "eve", "groups": ["dev"],
      "email": "eve@example.com.evil.test", "department": "sec10"})"));
  ASSERT_FALSE(id.has_value());
  EXPECT_EQ(id.error().code(), Code::kPermissionDenied);
  EXPECT_EQ(id.error().message(),
            "no role is mapped to eve by connector corp (ask your administrator to map your "
            "groups)");
  // A value that is not a string or list of strings matches nothing.
  EXPECT_FALSE(
      MapClaims(Corp(), Claims(R"({"preferred_username": "eve", "groups": {"ops": true}})"))
          .has_value());
}

TEST(ClaimsMappingTest, BadNamesAndLogins) {
  auto none = MapClaims(Corp(), Claims(R"({"groups": ["ops"]})"));
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), Code::kInvalidArgument);
  EXPECT_FALSE(
      MapClaims(Corp(), Claims(R"({"preferred_username": 7, "groups": ["ops"]})")).has_value());
  EXPECT_FALSE(MapClaims(Corp(), Claims(R"({"preferred_username": "../root", "groups": ["ops"]})"))
                   .has_value());
  auto login = MapClaims(Corp(), Claims(R"({"preferred_username": "alice", "groups": ["ops"],
      "unix_logins": ["root;rm"]})"));
  ASSERT_FALSE(login.has_value());
  EXPECT_EQ(login.error().code(), Code::kInvalidArgument);
  EXPECT_FALSE(MapClaims(Corp(), Claims(R"({"preferred_username": "alice", "groups": ["ops"],
      "unix_logins": 5})"))
                   .has_value());
}

TEST(ClaimsMappingTest, ValueMatching) {
  EXPECT_TRUE(ClaimValueMatches("ops", "ops"));
  EXPECT_FALSE(ClaimValueMatches("ops", "ops2"));
  EXPECT_FALSE(ClaimValueMatches("ops", "OPS"));
  EXPECT_TRUE(ClaimValueMatches("*@example.com", "a.b/c@example.com"));
  EXPECT_FALSE(ClaimValueMatches("*@example.com", "a@example.com.evil"));
  EXPECT_TRUE(ClaimValueMatches("team-?", "team-a"));
}

}  // namespace
}  // namespace gate::ca
