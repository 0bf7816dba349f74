// recorder.json as gate-node record on writes it, and record.json, the
// node's note of what record on set up.
#include "sshd-hooks/common/record_state.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <functional>
#include <string>
#include <vector>

#include "gate/json.h"
#include "hooks_test_util.h"

namespace gate::hooks {
namespace {

using testing::TempDir;
using testing::WriteFile;

RecorderConfig Config() {
  RecorderConfig c;
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
TEST(RecorderConfigTest, RendersTheDocumentedFormat) {
  const std::string text = RenderRecorderConfig(Config());
  ASSERT_TRUE(text.ends_with("}\n"));
  auto json = json::Parse(text);
  ASSERT_TRUE(json.has_value()) << json.error().ToString();
  std::vector<std::string> names = json->getMemberNames();
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names,
            (std::vector<std::string>{"cache_dir", "cluster_name", "flush_interval_ms", "host_uuid",
                                      "key_file", "node_name", "proxy", "record_exec_output",
                                      "record_input", "run_dir", "spool_dir", "version"}));
  EXPECT_EQ((*json)["version"].asInt(), 1);
  EXPECT_EQ((*json)["cluster_name"].asString(), "grav-00");
  EXPECT_EQ((*json)["node_name"].asString(), "db-1");
  EXPECT_EQ((*json)["proxy"].asString(), "grav-00:3080");
  EXPECT_EQ((*json)["key_file"].asString(), "/var/lib/gate-rec/recorder.key");
  EXPECT_EQ((*json)["flush_interval_ms"].asInt64(), 100);
  EXPECT_FALSE((*json)["record_input"].asBool());
  EXPECT_FALSE((*json)["record_exec_output"].asBool());

  RecorderConfig c = Config();
  c.flush_interval_ms = 250;
  c.record_input = true;
  c.record_exec_output = true;
  auto changed = json::Parse(RenderRecorderConfig(c));
  ASSERT_TRUE(changed.has_value());
  EXPECT_EQ((*changed)["flush_interval_ms"].asInt64(), 250);
  EXPECT_TRUE((*changed)["record_input"].asBool());
  EXPECT_TRUE((*changed)["record_exec_output"].asBool());
}

TEST(RecorderConfigTest, Validation) {
  EXPECT_TRUE(ValidateRecorderConfig(Config()).ok());
  struct Case {
    std::string name;
    std::function<void(RecorderConfig*)> mutate;
  };
  const std::vector<Case> bad = {
      {"empty cluster", [](RecorderConfig* c) { c->cluster_name.clear(); }},
      {"empty uuid", [](RecorderConfig* c) { c->host_uuid.clear(); }},
      {"node name with newline", [](RecorderConfig* c) { c->node_name = "db\n1"; }},
      {"empty proxy", [](RecorderConfig* c) { c->proxy.clear(); }},
      {"relative spool", [](RecorderConfig* c) { c->spool_dir = "spool"; }},
      {"empty run dir", [](RecorderConfig* c) { c->run_dir.clear(); }},
      {"key with control", [](RecorderConfig* c) { c->key_file = "/k\x01"; }},
      {"relative cache", [](RecorderConfig* c) { c->cache_dir = "cache"; }},
      {"flush 9", [](RecorderConfig* c) { c->flush_interval_ms = 9; }},
      {"flush 60001", [](RecorderConfig* c) { c->flush_interval_ms = 60001; }},
      {"flush negative", [](RecorderConfig* c) { c->flush_interval_ms = -100; }},
  };
  for (const Case& c : bad) {
    RecorderConfig config = Config();
    c.mutate(&config);
    EXPECT_EQ(ValidateRecorderConfig(config).code(), Code::kInvalidArgument) << c.name;
  }
  RecorderConfig edge = Config();
  edge.flush_interval_ms = 10;
  EXPECT_TRUE(ValidateRecorderConfig(edge).ok());
  edge.flush_interval_ms = 60000;
  EXPECT_TRUE(ValidateRecorderConfig(edge).ok());
}

RecordState State() {
  RecordState s;
  s.all_sessions = true;
  s.recorder_command = "/usr/libexec/gate/gate-record";
  s.recorder_user = "gate-rec";
  s.created_user = true;
  s.config_file = "/etc/gate/recorder.json";
  s.public_key_file = "/etc/gate/recorder.pub";
  s.key_dir = "/var/lib/gate-rec";
  s.spool_dir = "/var/spool/gate/sessions";
  s.run_dir = "/run/gate/sessions";
  s.created_dirs = {"/var/spool/gate", "/var/spool/gate/sessions"};
  s.key_fingerprint = "SHA256:abc";
  return s;
}

TEST(RecordStateTest, RoundTrip) {
  const RecordState s = State();
  const Json::Value json = RecordStateToJson(s);
  EXPECT_EQ(json["sessions"].asString(), "all");
  auto back = RecordStateFromJson(json);
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_TRUE(back->all_sessions);
  EXPECT_EQ(back->recorder_command, s.recorder_command);
  EXPECT_EQ(back->recorder_user, "gate-rec");
  EXPECT_TRUE(back->created_user);
  EXPECT_EQ(back->created_dirs, s.created_dirs);
  EXPECT_EQ(back->KeyFile(), "/var/lib/gate-rec/recorder.key");
  EXPECT_EQ(back->key_fingerprint, "SHA256:abc");

  RecordState roles = s;
  roles.all_sessions = false;
  roles.created_dirs.clear();
  auto roles_back = RecordStateFromJson(RecordStateToJson(roles));
  ASSERT_TRUE(roles_back.has_value());
  EXPECT_FALSE(roles_back->all_sessions);
  EXPECT_EQ(RecordStateToJson(roles)["sessions"].asString(), "roles");
}

TEST(RecordStateTest, StrictParsing) {
  struct Case {
    std::string name;
    std::function<void(Json::Value*)> mutate;
  };
  const std::vector<Case> bad = {
      {"version 2", [](Json::Value* v) { (*v)["version"] = 2; }},
      {"no version", [](Json::Value* v) { v->removeMember("version"); }},
      {"unknown field", [](Json::Value* v) { (*v)["extra"] = 1; }},
      {"sessions bogus", [](Json::Value* v) { (*v)["sessions"] = "some"; }},
      {"sessions bool", [](Json::Value* v) { (*v)["sessions"] = true; }},
      {"missing spool", [](Json::Value* v) { v->removeMember("spool_dir"); }},
      {"relative key dir", [](Json::Value* v) { (*v)["key_dir"] = "gate-rec"; }},
      {"relative created dir", [](Json::Value* v) { (*v)["created_dirs"][0] = "x"; }},
      {"created_user string", [](Json::Value* v) { (*v)["created_user"] = "yes"; }},
      {"missing created_user", [](Json::Value* v) { v->removeMember("created_user"); }},
      {"empty user", [](Json::Value* v) { (*v)["recorder_user"] = ""; }},
      {"not an object", [](Json::Value* v) { *v = Json::arrayValue; }},
  };
  for (const Case& c : bad) {
    Json::Value v = RecordStateToJson(State());
    c.mutate(&v);
    auto parsed = RecordStateFromJson(v);
    ASSERT_FALSE(parsed.has_value()) << c.name;
    EXPECT_EQ(parsed.error().code(), Code::kInvalidArgument) << c.name;
  }
}

TEST(RecordStateTest, FileIsRootOnlyAndCheckedOnRead) {
  TempDir dir;
  const std::string path = dir.File(kRecordStateFile);
  EXPECT_EQ(ReadRecordState(path).error().code(), Code::kNotFound);
  ASSERT_TRUE(WriteRecordState(path, State()).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  auto read = ReadRecordState(path);
  ASSERT_TRUE(read.has_value()) << read.error().ToString();
  EXPECT_EQ(read->spool_dir, "/var/spool/gate/sessions");

  ASSERT_EQ(::chmod(path.c_str(), 0666), 0);
  EXPECT_EQ(ReadRecordState(path).error().code(), Code::kPermissionDenied);
  WriteFile(path, "{\"version\": 1}", 0600);
  EXPECT_EQ(ReadRecordState(path).error().code(), Code::kDataLoss);
  WriteFile(path, "not json", 0600);
  EXPECT_EQ(ReadRecordState(path).error().code(), Code::kDataLoss);
}

}  // namespace
}  // namespace gate::hooks
