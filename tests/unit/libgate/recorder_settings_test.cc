// recorder.json as `gate-node record on` writes it: the documented fields,
// and the writer's validation (which is the reader's parse).
#include "gate/recorder_settings.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "gate/json.h"

namespace gate::recorder {
namespace {

Settings Config() {
  Settings c;
  c.cluster_name = "grav-00";
  c.host_uuid = "4a6f0000-0000-4000-8000-000000000001";
  c.node_name = "db-1";
  c.proxy = "grav-00:3080";
  c.cache_dir = "/var/lib/gate-node/cache";
  c.spool_dir = "/var/spool/gate/sessions";
  c.run_dir = "/run/gate/sessions";
  c.key_file = "/var/lib/gate-rec/recorder.key";
  return c;
}

// docs/recording.md, "Files and users": every documented field, and no
// other (gate-record refuses unknown fields).
TEST(RecorderSettingsTest, RendersTheDocumentedFormat) {
  const std::string text = RenderSettings(Config());
  ASSERT_TRUE(text.ends_with("}\n"));
  auto json = json::Parse(text);
  ASSERT_TRUE(json.has_value()) << json.error().ToString();
  std::vector<std::string> names = json->getMemberNames();
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"cache_dir", "cluster_name", "flush_interval_ms",
                                             "host_uuid", "join_history_bytes", "key_file",
                                             "node_name", "proxy", "record_exec_output",
                                             "record_input", "run_dir", "spool_dir", "version"}));
  EXPECT_EQ((*json)["version"].asInt(), 1);
  EXPECT_EQ((*json)["cluster_name"].asString(), "grav-00");
  EXPECT_EQ((*json)["node_name"].asString(), "db-1");
  EXPECT_EQ((*json)["proxy"].asString(), "grav-00:3080");
  EXPECT_EQ((*json)["key_file"].asString(), "/var/lib/gate-rec/recorder.key");
  EXPECT_EQ((*json)["flush_interval_ms"].asInt64(), 100);
  EXPECT_FALSE((*json)["record_input"].asBool());
  EXPECT_FALSE((*json)["record_exec_output"].asBool());
  EXPECT_EQ((*json)["join_history_bytes"].asUInt64(), 64u * 1024 * 1024);

  Settings c = Config();
  c.flush_interval_ms = 250;
  c.record_input = true;
  c.record_exec_output = true;
  auto changed = json::Parse(RenderSettings(c));
  ASSERT_TRUE(changed.has_value());
  EXPECT_EQ((*changed)["flush_interval_ms"].asInt64(), 250);
  EXPECT_TRUE((*changed)["record_input"].asBool());
  EXPECT_TRUE((*changed)["record_exec_output"].asBool());
}

TEST(RecorderSettingsTest, Validation) {
  EXPECT_TRUE(ValidateSettings(Config()).ok());
  struct Case {
    std::string name;
    std::function<void(Settings*)> mutate;
  };
  const std::vector<Case> bad = {
      {"empty cluster", [](Settings* c) { c->cluster_name.clear(); }},
      {"empty uuid", [](Settings* c) { c->host_uuid.clear(); }},
      {"node name with newline", [](Settings* c) { c->node_name = "db\n1"; }},
      {"empty proxy", [](Settings* c) { c->proxy.clear(); }},
      {"relative spool", [](Settings* c) { c->spool_dir = "spool"; }},
      {"empty run dir", [](Settings* c) { c->run_dir.clear(); }},
      {"key with control", [](Settings* c) { c->key_file = "/k\x01"; }},
      {"relative cache", [](Settings* c) { c->cache_dir = "cache"; }},
      {"flush 9", [](Settings* c) { c->flush_interval_ms = 9; }},
      {"flush 60001", [](Settings* c) { c->flush_interval_ms = 60001; }},
      {"flush negative", [](Settings* c) { c->flush_interval_ms = -100; }},
      {"join history 1 byte", [](Settings* c) { c->join_history_bytes = 1; }},
      {"join history just under 1 MiB", [](Settings* c) { c->join_history_bytes = 1048575; }},
      {"join history over 1 TiB", [](Settings* c) { c->join_history_bytes = (1ull << 40) + 1; }},
      {"join history beyond int64", [](Settings* c) { c->join_history_bytes = ~0ull; }},
  };
  for (const Case& c : bad) {
    Settings config = Config();
    c.mutate(&config);
    EXPECT_EQ(ValidateSettings(config).code(), Code::kInvalidArgument) << c.name;
  }
  Settings edge = Config();
  edge.flush_interval_ms = 10;
  EXPECT_TRUE(ValidateSettings(edge).ok());
  edge.flush_interval_ms = 60000;
  EXPECT_TRUE(ValidateSettings(edge).ok());
  for (std::uint64_t history : {0ull, 1ull << 20, 1ull << 40}) {
    edge.join_history_bytes = history;
    EXPECT_TRUE(ValidateSettings(edge).ok()) << history;
  }
}

// Written before the field existed: the default applies.
TEST(RecorderSettingsTest, JoinHistoryDefaultsTo64MiBAndIsReadBack) {
  auto old = ParseSettings(
      R"({"version": 1, "cluster_name": "c", "host_uuid": "u", "node_name": "n", "proxy": "p"})");
  ASSERT_TRUE(old.has_value()) << old.error().ToString();
  EXPECT_EQ(old->join_history_bytes, 64u * 1024 * 1024);
  Settings c = Config();
  c.join_history_bytes = 0;
  auto parsed = ParseSettings(RenderSettings(c));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed->join_history_bytes, 0u);
  auto text = ParseSettings(
      R"({"version": 1, "cluster_name": "c", "host_uuid": "u", "node_name": "n", "proxy": "p",
          "join_history_bytes": "64M"})");
  ASSERT_FALSE(text.has_value());
  EXPECT_EQ(text.error().code(), Code::kInvalidArgument);
}

TEST(RecorderSettingsTest, WhatIsWrittenParsesBackAsIs) {
  Settings c = Config();
  c.flush_interval_ms = 250;
  c.record_input = true;
  auto parsed = ParseSettings(RenderSettings(c));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed->cluster_name, c.cluster_name);
  EXPECT_EQ(parsed->key_file, c.key_file);
  EXPECT_EQ(parsed->flush_interval_ms, 250);
  EXPECT_TRUE(parsed->record_input);
  EXPECT_FALSE(parsed->record_exec_output);
}

// Where gate-node writes the public key and gate play --verify looks for it.
TEST(RecorderSettingsTest, PublicKeyLivesBesideTheSettings) {
  EXPECT_EQ(PublicKeyPath("/etc/gate/recorder.json"), "/etc/gate/recorder.pub");
  EXPECT_EQ(PublicKeyPath("/var/lib/gate-demo/recorder.json"), "/var/lib/gate-demo/recorder.pub");
  EXPECT_EQ(PublicKeyPath("/recorder.json"), "/recorder.pub");
  EXPECT_EQ(PublicKeyPath("recorder.json"), "./recorder.pub");
}

}  // namespace
}  // namespace gate::recorder
