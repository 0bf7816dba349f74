#include "gate/node_state.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "gate/json.h"
#include "hooks_test_util.h"

namespace gate {
namespace {

using testing::ModeOf;
using testing::TempDir;
using testing::WriteFile;

NodeState Sample() {
  NodeState s;
  s.proxy = "grav-00:3080";
  s.ca_pin = "sha256:" + std::string(64, 'a');
  s.host_uuid = "4a6f0000-0000-4000-8000-000000000001";
  s.node_secret = SecretString(std::string(64, 'f'));
  s.cluster_name = "grav-00";
  s.labels = {{"env", "prod"}, {"rack", "r1"}};
  s.principals = {"db-1", "db-1.example.com"};
  s.created_principals_user = "gate-principals";
  s.created_data_dir = true;
  s.host_cert_backed_up = true;
  return s;
}

TEST(NodeStateTest, RoundTripsThroughTheFile) {
  TempDir tmp{0755};
  const std::string path = tmp.File("node.json");
  ASSERT_TRUE(WriteNodeState(path, Sample()).ok());
  EXPECT_EQ(ModeOf(path), 0600u);
  auto s = ReadNodeState(path);
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  EXPECT_EQ(s->proxy, "grav-00:3080");
  EXPECT_FALSE(s->insecure);
  EXPECT_EQ(s->ca_pin, Sample().ca_pin);
  EXPECT_EQ(s->host_uuid, Sample().host_uuid);
  EXPECT_EQ(s->node_secret.view(), std::string(64, 'f'));
  EXPECT_EQ(s->cluster_name, "grav-00");
  EXPECT_EQ(s->labels, Sample().labels);
  EXPECT_EQ(s->principals, Sample().principals);
  EXPECT_EQ(s->created_principals_user, "gate-principals");
  EXPECT_TRUE(s->created_data_dir);
  EXPECT_TRUE(s->host_cert_backed_up);
  EXPECT_FALSE(s->drop_in_backed_up);
  EXPECT_EQ(s->BearerToken().view(), Sample().host_uuid + "." + std::string(64, 'f'));
}

TEST(NodeStateTest, RefusesUnsafeOrCorruptFiles) {
  TempDir tmp{0755};
  const std::string path = tmp.File("node.json");
  EXPECT_EQ(ReadNodeState(path).error().code(), Code::kNotFound);
  ASSERT_TRUE(WriteNodeState(path, Sample()).ok());
  chmod(path.c_str(), 0644);  // holds the node secret
  EXPECT_EQ(ReadNodeState(path).error().code(), Code::kPermissionDenied);
  WriteFile(path, "{\"proxy\": \"x\"", 0600);
  EXPECT_EQ(ReadNodeState(path).error().code(), Code::kDataLoss);
  WriteFile(path, R"({"proxy": "x", "host_uuid": "u"})", 0600);
  EXPECT_EQ(ReadNodeState(path).error().code(), Code::kDataLoss);
  WriteFile(path, R"({"version": 2, "proxy": "x", "host_uuid": "u", "node_secret": "s"})", 0600);
  EXPECT_EQ(ReadNodeState(path).error().code(), Code::kDataLoss);
  WriteFile(path, R"({"proxy": "x", "host_uuid": "u", "node_secret": "s", "insecure": "yes"})",
            0600);
  EXPECT_EQ(ReadNodeState(path).error().code(), Code::kDataLoss);
}

TEST(NodeStateTest, MinimalDocument) {
  auto s = NodeStateFromJson(
      json::Parse(R"({"proxy": "p:1", "host_uuid": "u", "node_secret": "s"})").value());
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  EXPECT_TRUE(s->labels.empty());
  EXPECT_TRUE(s->created_principals_user.empty());
  EXPECT_FALSE(s->deny_stale_cache);
  EXPECT_EQ(s->max_cache_age_seconds, 0);
  EXPECT_FALSE(s->created_cache_group);
}

TEST(NodeStateTest, KeepsTheStaleCacheRule) {
  NodeState sample = Sample();
  sample.deny_stale_cache = true;
  sample.max_cache_age_seconds = 900;
  sample.created_cache_group = true;
  auto s = NodeStateFromJson(NodeStateToJson(sample));
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  EXPECT_TRUE(s->deny_stale_cache);
  EXPECT_EQ(s->max_cache_age_seconds, 900);
  EXPECT_TRUE(s->created_cache_group);
  for (
      const char* bad :
      {R"({"proxy": "p:1", "host_uuid": "u", "node_secret": "s", "stale_cache": "maybe"})",
       R"({"proxy": "p:1", "host_uuid": "u", "node_secret": "s", "stale_cache": true})",
       R"({"proxy": "p:1", "host_uuid": "u", "node_secret": "s", "max_cache_age_seconds": -1})",
       R"({"proxy": "p:1", "host_uuid": "u", "node_secret": "s", "max_cache_age_seconds": "1"})"}) {
    EXPECT_FALSE(NodeStateFromJson(json::Parse(bad).value()).has_value()) << bad;
  }
}

}  // namespace
}  // namespace gate
