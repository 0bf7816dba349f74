// The browser terminal's message protocol (ca-server/web/terminal_protocol.h).
#include "ca-server/web/terminal_protocol.h"

#include <gtest/gtest.h>

#include <string>

#include "gate/json.h"

namespace gate::ca::web {
namespace {

TEST(TerminalProtocolTest, ParsesTheStartMessage) {
  auto start = ParseStartMessage(R"({"type":"start","csrf_token":"tok","cols":120,"rows":40})");
  ASSERT_TRUE(start.has_value()) << start.error().ToString();
  EXPECT_EQ(start->csrf_token.view(), "tok");
  EXPECT_EQ(start->size.cols, 120);
  EXPECT_EQ(start->size.rows, 40);
  // The bounds themselves are allowed.
  auto edge = ParseStartMessage(R"({"type":"start","csrf_token":"t","cols":1,"rows":1000})");
  ASSERT_TRUE(edge.has_value()) << edge.error().ToString();
  EXPECT_EQ(edge->size.cols, 1);
  EXPECT_EQ(edge->size.rows, 1000);
}

TEST(TerminalProtocolTest, RefusesEveryOtherFirstMessage) {
  const char* bad[] = {
      "",
      "start",
      "[]",
      R"({"type":"start","cols":80,"rows":24})",                                // no token
      R"({"type":"start","csrf_token":"","cols":80,"rows":24})",                // empty token
      R"({"type":"start","csrf_token":7,"cols":80,"rows":24})",                 // not a string
      R"({"type":"resize","csrf_token":"t","cols":80,"rows":24})",              // wrong type
      R"({"csrf_token":"t","cols":80,"rows":24})",                              // no type
      R"({"type":"start","csrf_token":"t","cols":0,"rows":24})",                // too small
      R"({"type":"start","csrf_token":"t","cols":80,"rows":1001})",             // too large
      R"({"type":"start","csrf_token":"t","cols":"80","rows":24})",             // not a number
      R"({"type":"start","csrf_token":"t","cols":80})",                         // no rows
      R"({"type":"start","csrf_token":"t","cols":80,"rows":24,"extra":true})",  // unknown member
  };
  for (const char* text : bad) {
    auto start = ParseStartMessage(text);
    ASSERT_FALSE(start.has_value()) << text;
    EXPECT_EQ(start.error().code(), Code::kInvalidArgument) << text;
    // The refusal never repeats the token.
    EXPECT_EQ(start.error().message().find("\"t\""), std::string::npos) << text;
  }
}

TEST(TerminalProtocolTest, ParsesResizeAndRefusesBadOnes) {
  auto resize = ParseResizeMessage(R"({"type":"resize","cols":200,"rows":50})");
  ASSERT_TRUE(resize.has_value()) << resize.error().ToString();
  EXPECT_EQ(resize->size.cols, 200);
  EXPECT_EQ(resize->size.rows, 50);
  for (const char* text :
       {R"({"type":"resize","cols":1001,"rows":50})", R"({"type":"resize","cols":-1,"rows":50})",
        R"({"type":"resize","cols":80})", R"({"type":"start","cols":80,"rows":24})",
        R"({"type":"resize","cols":80,"rows":24,"csrf_token":"x"})"}) {
    EXPECT_FALSE(ParseResizeMessage(text).has_value()) << text;
  }
}

Json::Value Parsed(const std::string& text) {
  auto v = json::Parse(text);
  EXPECT_TRUE(v.has_value()) << text;
  return v ? *v : Json::Value();
}

TEST(TerminalProtocolTest, WritesTheServerMessages) {
  Json::Value ready = Parsed(ReadyMessage("db-1", "alice", ""));
  EXPECT_EQ(ready["type"].asString(), "ready");
  EXPECT_EQ(ready["node"].asString(), "db-1");
  EXPECT_EQ(ready["login"].asString(), "alice");
  EXPECT_FALSE(ready.isMember("session_id"));
  Json::Value join = Parsed(ReadyMessage("db-1", "alice", "0b6f2a9e-3c1d-4e5f-8a7b-9c0d1e2f3a4b"));
  EXPECT_EQ(join["session_id"].asString(), "0b6f2a9e-3c1d-4e5f-8a7b-9c0d1e2f3a4b");

  Json::Value exited = Parsed(EndMessage(3, ""));
  EXPECT_EQ(exited["type"].asString(), "end");
  EXPECT_EQ(exited["exit_status"].asInt(), 3);
  EXPECT_FALSE(exited.isMember("signal"));
  Json::Value killed = Parsed(EndMessage(std::nullopt, "HUP"));
  EXPECT_EQ(killed["signal"].asString(), "HUP");
  EXPECT_FALSE(killed.isMember("exit_status"));
  Json::Value unknown = Parsed(EndMessage(std::nullopt, ""));
  EXPECT_EQ(unknown.getMemberNames(), std::vector<std::string>{"type"});

  Json::Value error = Parsed(ErrorMessage("host key of db-1 does not match \"x\""));
  EXPECT_EQ(error["type"].asString(), "error");
  EXPECT_EQ(error["message"].asString(), "host key of db-1 does not match \"x\"");
}

}  // namespace
}  // namespace gate::ca::web
