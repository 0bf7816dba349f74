#include "gate/names.h"

#include <gtest/gtest.h>

namespace gate {
namespace {

TEST(NamesTest, UserNames) {
  for (const char* ok : {"alice", "Alice.Smith", "a@b.c", "x_y-z", "1"}) {
    EXPECT_TRUE(ValidateUserName(ok).ok()) << ok;
  }
  for (const char* bad : {"", "-rf", ".hidden", "a b", "a/b", "a\nb", "é"}) {
    EXPECT_EQ(ValidateUserName(bad).code(), Code::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(ValidateUserName(std::string(65, 'a')).ok());
}

TEST(NamesTest, Logins) {
  for (const char* ok : {"root", "alice", "_svc", "web-1", "a.b"}) {
    EXPECT_TRUE(ValidateLogin(ok).ok()) << ok;
  }
  for (const char* bad : {"", "Root", "1abc", "-x", "a b", "a:b", "a$"}) {
    EXPECT_EQ(ValidateLogin(bad).code(), Code::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(ValidateLogin(std::string(33, 'a')).ok());
}

TEST(NamesTest, LoginLists) {
  EXPECT_EQ(ParseLoginList("alice, root,alice").value(),
            (std::vector<std::string>{"alice", "root"}));
  EXPECT_FALSE(ParseLoginList("").has_value());
  EXPECT_FALSE(ParseLoginList("a,,b").has_value());
  EXPECT_FALSE(ParseLoginList("a,B").has_value());
}

TEST(NamesTest, ErrorsDoNotEchoControlCharacters) {
  const Status s = ValidateUserName("bad\x1b[31mname");
  EXPECT_EQ(s.message().find('\x1b'), std::string::npos);
}

}  // namespace
}  // namespace gate
