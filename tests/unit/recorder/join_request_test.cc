#include "recorder/session/join_request.h"

#include <gtest/gtest.h>

namespace gate::recorder {
namespace {

constexpr char kId[] = "0b6f2a9e-3c1d-4e5f-8a7b-9c0d1e2f3a4b";

TEST(JoinRequestTest, GateJoinAsTheWorkstationSendsIt) {
  auto r = ParseJoinRequest(std::string("gate join --mode peer ") + kId);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->session_id, kId);
  EXPECT_EQ(r->mode, JoinMode::kPeer);
  r = ParseJoinRequest(std::string("/usr/local/bin/gate join --mode observer ") + kId);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->mode, JoinMode::kObserver);
}

TEST(JoinRequestTest, AnythingElseIsAnOrdinaryCommand) {
  const std::string id = kId;
  for (const std::string& command : {
           std::string(""),
           std::string("bash"),
           "gate join " + id,
           "gate join --mode peer " + id + " ; rm -rf ~",
           "gate join --mode peer " + id + " ",
           "gate  join --mode peer " + id,
           "gate join --mode owner " + id,
           "gate join --mode peer ../" + id,
           "gate status --mode peer " + id,
           "notgate join --mode peer " + id,
           "bin/gate join --mode peer " + id,
           "/usr/bin/gatex join --mode peer " + id,
       }) {
    EXPECT_FALSE(ParseJoinRequest(command).has_value()) << command;
  }
}

}  // namespace
}  // namespace gate::recorder
