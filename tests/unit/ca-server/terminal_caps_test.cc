// The browser terminals' caps (ca-server/web/terminal_caps.h).
#include "ca-server/web/terminal_caps.h"

#include <gtest/gtest.h>

namespace gate::ca::web {
namespace {

TEST(TerminalCapsTest, PerUserCapThenTotalCap) {
  TerminalCaps caps({.max_connections = 3, .max_per_user = 2});
  EXPECT_TRUE(caps.Reserve("alice").ok());
  EXPECT_TRUE(caps.Reserve("alice").ok());
  Status third = caps.Reserve("alice");
  EXPECT_EQ(third.code(), Code::kResourceExhausted);
  EXPECT_NE(third.message().find("2 browser terminals open"), std::string::npos) << third.message();
  EXPECT_TRUE(caps.Reserve("bob").ok());
  EXPECT_EQ(caps.open(), 3);
  Status full = caps.Reserve("carol");
  EXPECT_EQ(full.code(), Code::kResourceExhausted);
  EXPECT_NE(full.message().find("at most 3"), std::string::npos) << full.message();
  // A refusal takes nothing; a release gives the place back to anyone.
  EXPECT_EQ(caps.open(), 3);
  caps.Release("alice");
  EXPECT_EQ(caps.open(), 2);
  EXPECT_TRUE(caps.Reserve("carol").ok());
  caps.Release("alice");
  EXPECT_TRUE(caps.Reserve("alice").ok());
  // Releasing for a user with none open changes nothing.
  caps.Release("nobody");
  EXPECT_EQ(caps.open(), 3);
}

}  // namespace
}  // namespace gate::ca::web
