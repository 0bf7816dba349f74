// The node's half of syncing by revision: replies parsed strictly, deltas
// applied to the last good snapshot, pages assembled; whatever is malformed
// is refused and changes nothing.
#include "sshd-hooks/node/policy_sync.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "gate/json.h"

namespace gate::node {
namespace {

constexpr char kHost[] = "4a6f0c1e-9b2d-4c3e-8f10-0123456789ab";

policy::Snapshot Base() {
  policy::Snapshot s;
  s.cluster_name = "c";
  s.host_uuid = kHost;
  s.generated_at = 100;
  s.revision = 10;
  s.node_labels = {{"env", "prod"}};
  s.users = {{"alice", {"alice"}, {"dev"}}, {"bob", {"bob"}, {}}, {"carol", {"carol"}, {}}};
  policy::Role dev;
  dev.name = "dev";
  dev.logins = {"deploy"};
  s.roles = {dev};
  return s;
}

// A delta reply from base to revision, as gate-ca sends it.
Json::Value DeltaJson(std::int64_t base, std::int64_t revision, const policy::Snapshot& part) {
  Json::Value v;
  v["shape"] = "delta";
  v["base"] = Json::Int64(base);
  v["revision"] = Json::Int64(revision);
  v["snapshot"] = policy::SnapshotToJson(part);
  v["krl"] = "AAAA";
  v["removed_users"] = Json::Value(Json::arrayValue);
  v["removed_roles"] = Json::Value(Json::arrayValue);
  v["user_ca"] = Json::Value(Json::arrayValue);
  v["host_principals"] = Json::Value(Json::arrayValue);
  return v;
}

policy::Snapshot Part() {
  policy::Snapshot part = Base();
  part.users.clear();
  part.roles.clear();
  part.generated_at = 200;
  return part;
}

TEST(PolicySyncTest, DeltaReplacesAddsAndRemovesByName) {
  policy::Snapshot part = Part();
  part.users = {{"alice", {"root"}, {}}, {"dave", {"dave"}, {}}};
  part.locks = {{"bob", 0, "stop"}};
  part.revoked_serials = {7};
  part.node_labels = {{"env", "dev"}};
  Json::Value json = DeltaJson(10, 12, part);
  json["removed_users"].append("carol");
  json["removed_users"].append("erin");  // added and removed since 10: never here
  auto delta = ParsePolicyReply(json, kHost);
  ASSERT_TRUE(delta.has_value()) << delta.error().ToString();
  auto whole = ApplyDelta(Base(), *delta);
  ASSERT_TRUE(whole.has_value()) << whole.error().ToString();
  EXPECT_EQ(whole->revision, 12);
  EXPECT_EQ(whole->generated_at, 200);
  ASSERT_EQ(whole->users.size(), 3u);
  EXPECT_EQ(whole->users[0].name, "alice");
  EXPECT_EQ(whole->users[0].logins, std::vector<std::string>{"root"});
  EXPECT_EQ(whole->users[1].name, "bob");
  EXPECT_EQ(whole->users[2].name, "dave");
  ASSERT_EQ(whole->roles.size(), 1u);  // untouched
  ASSERT_EQ(whole->locks.size(), 1u);  // whole, from the delta
  EXPECT_EQ(whole->revoked_serials, std::vector<std::uint64_t>{7});
  EXPECT_EQ(whole->node_labels, (policy::Labels{{"env", "dev"}}));
}

TEST(PolicySyncTest, LocksAndSerialsAreTheDeltasEvenWhenItEmptiesThem) {
  policy::Snapshot base = Base();
  base.locks = {{"bob", 0, "stop"}};
  base.revoked_serials = {1, 2};
  auto delta = ParsePolicyReply(DeltaJson(10, 11, Part()), kHost);
  ASSERT_TRUE(delta.has_value()) << delta.error().ToString();
  auto whole = ApplyDelta(base, *delta);
  ASSERT_TRUE(whole.has_value());
  EXPECT_TRUE(whole->locks.empty());
  EXPECT_TRUE(whole->revoked_serials.empty());
  EXPECT_EQ(whole->users.size(), 3u);
}

TEST(PolicySyncTest, DeltaFromAnotherRevisionIsAGap) {
  auto delta = ParsePolicyReply(DeltaJson(9, 11, Part()), kHost);
  ASSERT_TRUE(delta.has_value());
  const policy::Snapshot base = Base();
  auto whole = ApplyDelta(base, *delta);
  ASSERT_FALSE(whole.has_value());
  EXPECT_EQ(whole.error().code(), Code::kFailedPrecondition);
}

// A user entry as a snapshot's JSON holds it.
Json::Value Alice() { return policy::SnapshotToJson(Base())["users"][0]; }

TEST(PolicySyncTest, MalformedDeltasAreRefused) {
  struct Case {
    const char* what;
    std::function<void(Json::Value&)> spoil;
  };
  const std::vector<Case> cases = {
      {"unknown shape", [](Json::Value& v) { v["shape"] = "patch"; }},
      {"no revision", [](Json::Value& v) { v.removeMember("revision"); }},
      {"revision 0", [](Json::Value& v) { v["revision"] = 0; }},
      {"backwards", [](Json::Value& v) { v["base"] = 12; }},
      {"base equals revision", [](Json::Value& v) { v["base"] = 11; }},
      {"no base", [](Json::Value& v) { v.removeMember("base"); }},
      {"no krl", [](Json::Value& v) { v.removeMember("krl"); }},
      {"krl not a string", [](Json::Value& v) { v["krl"] = 5; }},
      {"no snapshot", [](Json::Value& v) { v.removeMember("snapshot"); }},
      {"another host", [](Json::Value& v) { v["snapshot"]["host_uuid"] = "other"; }},
      {"bad user entry", [](Json::Value& v) { v["snapshot"]["users"].append(Json::Value(5)); }},
      {"user twice",
       [](Json::Value& v) {
         v["snapshot"]["users"].append(Alice());
         v["snapshot"]["users"].append(Alice());
       }},
      {"changed and removed",
       [](Json::Value& v) {
         v["snapshot"]["users"].append(Alice());
         v["removed_users"].append("alice");
       }},
      {"removed twice",
       [](Json::Value& v) {
         v["removed_users"].append("bob");
         v["removed_users"].append("bob");
       }},
      {"removed bad name", [](Json::Value& v) { v["removed_users"].append("../x"); }},
      {"removed not a list", [](Json::Value& v) { v["removed_roles"] = "dev"; }},
      {"no removed_users", [](Json::Value& v) { v.removeMember("removed_users"); }},
      {"bad lock", [](Json::Value& v) { v["snapshot"]["locks"].append("bob"); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Json::Value json = DeltaJson(10, 11, Part());
    c.spoil(json);
    auto parsed = ParsePolicyReply(json, kHost);
    if (parsed.has_value()) {
      // Whatever parses must still not apply to this base.
      const policy::Snapshot base = Base();
      EXPECT_FALSE(ApplyDelta(base, *parsed).has_value());
    } else {
      EXPECT_EQ(parsed.error().code(), Code::kInvalidArgument) << parsed.error().ToString();
    }
  }
}

TEST(PolicySyncTest, UnchangedCarriesNoPolicy) {
  Json::Value v;
  v["shape"] = "unchanged";
  v["revision"] = 10;
  auto parsed = ParsePolicyReply(v, kHost);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed->shape, PolicyReply::Shape::kUnchanged);
  EXPECT_EQ(parsed->revision, 10);
  // A delta function given it changes nothing.
  EXPECT_FALSE(ApplyDelta(Base(), *parsed).has_value());
}

Json::Value PageJson(std::int64_t revision, policy::Snapshot part, const std::string& next) {
  Json::Value v;
  v["shape"] = "full";
  v["revision"] = Json::Int64(revision);
  v["snapshot"] = policy::SnapshotToJson(part);
  if (!next.empty()) v["next"] = next;
  return v;
}

TEST(PolicySyncTest, PagesAssembleInOrderAndRefuseAnythingElse) {
  policy::Snapshot first = Part();
  first.roles = Base().roles;
  first.users = {{"alice", {"alice"}, {}}};
  auto page1 = ParsePolicyReply(PageJson(20, first, "20.u.alice"), kHost);
  ASSERT_TRUE(page1.has_value()) << page1.error().ToString();
  EXPECT_EQ(page1->next, "20.u.alice");
  policy::Snapshot assembled = page1->snapshot;
  EXPECT_EQ(assembled.revision, 20);

  policy::Snapshot second = Part();
  second.users = {{"bob", {"bob"}, {}}, {"carol", {"carol"}, {}}};
  auto page2 = ParsePolicyReply(PageJson(20, second, ""), kHost);
  ASSERT_TRUE(page2.has_value());

  // Refused, each leaving the assembly as it was.
  policy::Snapshot overlap = Part();
  overlap.users = {{"alice", {"x"}, {}}};
  policy::Snapshot late_roles = Part();
  late_roles.roles = Base().roles;
  late_roles.roles[0].name = "zeta";
  for (auto [what, page] : {std::pair{"another revision", PageJson(21, second, "")},
                            std::pair{"overlapping", PageJson(20, overlap, "")},
                            std::pair{"roles after users", PageJson(20, late_roles, "")}}) {
    SCOPED_TRACE(what);
    auto parsed = ParsePolicyReply(page, kHost);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(AppendPage(assembled, *parsed).code(), Code::kInvalidArgument);
    EXPECT_EQ(assembled.users.size(), 1u);
    EXPECT_EQ(assembled.roles.size(), 1u);
  }
  auto delta = ParsePolicyReply(DeltaJson(10, 11, Part()), kHost);
  ASSERT_TRUE(delta.has_value());
  EXPECT_EQ(AppendPage(assembled, *delta).code(), Code::kInvalidArgument);

  ASSERT_TRUE(AppendPage(assembled, *page2).ok());
  ASSERT_EQ(assembled.users.size(), 3u);
  EXPECT_EQ(assembled.users[2].name, "carol");
  EXPECT_EQ(assembled.revision, 20);
}

TEST(PolicySyncTest, EmptyCursorIsRefused) {
  auto parsed = ParsePolicyReply(PageJson(20, Part(), ""), kHost);
  ASSERT_TRUE(parsed.has_value());
  Json::Value bad = PageJson(20, Part(), "");
  bad["next"] = "";
  EXPECT_FALSE(ParsePolicyReply(bad, kHost).has_value());
}

}  // namespace
}  // namespace gate::node
