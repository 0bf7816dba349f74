// record.json, the node's note of what `gate-node record on` set up
// (recorder.json's tests are libgate's recorder_settings_test.cc).
#include "sshd-hooks/node/record_state.h"

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
