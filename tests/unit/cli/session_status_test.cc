#include "cli/common/session_status.h"

#include <gtest/gtest.h>

#include <string>

#include "common/test_util.h"
#include "gate/json.h"
#include "gate/live_session.h"

namespace gate::cli {
namespace {

using testing::TempDir;
using testing::WriteFile;

class SessionStatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = tmp_.File("recorder.json");
    WriteFile(config_, R"({"version": 1, "cluster_name": "grav-00", "host_uuid": "a3f67090",)"
                       R"( "node_name": "db-1", "proxy": "grav-00:3080", "run_dir": ")" +
                           tmp_.path() + R"("})");
  }
  TempDir tmp_{0755};
  std::string id_ = "0b6b1c0e-5d4f-4c3a-9e2b-7f8a9b0c1d2e";
  std::string config_;
};

TEST_F(SessionStatusTest, PrintsTheTeleportStatusBlock) {
  recorder::LiveSession live;
  live.session_id = id_;
  live.user = "alice";
  live.login = "root";
  WriteFile(recorder::LiveSessionPath(tmp_.path(), id_),
            json::Write(recorder::LiveSessionToJson(live)) + "\n");
  auto block = SessionStatusBlock(id_, config_);
  ASSERT_TRUE(block.has_value()) << block.error().ToString();
  EXPECT_EQ(*block,
            "Cluster Name: grav-00\n"
            "Host UUID   : a3f67090\n"
            "Session ID  : " +
                id_ +
                "\n"
                "Session URL : https://grav-00:3080/web/sessions/" +
                id_ + "\n");
}

TEST_F(SessionStatusTest, NotALiveSession) {
  EXPECT_EQ(SessionStatusBlock(id_, config_).error().code(), Code::kNotFound);
  EXPECT_EQ(SessionStatusBlock("../../etc/passwd", config_).error().code(), Code::kNotFound);
  EXPECT_EQ(SessionStatusBlock("", config_).error().code(), Code::kNotFound);
}

TEST_F(SessionStatusTest, UnreadableSettings) {
  EXPECT_EQ(SessionStatusBlock(id_, tmp_.File("missing.json")).error().code(), Code::kNotFound);
  WriteFile(config_, "{}");
  auto block = SessionStatusBlock(id_, config_);
  ASSERT_FALSE(block.has_value());
  EXPECT_EQ(block.error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace gate::cli
