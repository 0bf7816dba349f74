// Where gate-node join reads its token: a private file, standard input or
// GATE_NODE_TOKEN (then removed from the environment), never argv.
#include "sshd-hooks/node/join_token.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "hooks_test_util.h"

namespace gate::node {
namespace {

using testing::TempDir;
using testing::WriteFile;

constexpr char kToken[] = "0123456789abcdef0123456789abcdef";

TEST(JoinTokenTest, ReadsAPrivateFileAndTrimsTheNewline) {
  TempDir tmp{0755};
  const std::string path = tmp.File("token");
  WriteFile(path, std::string(kToken) + "\n", 0600);
  auto token = ReadJoinToken(path);
  ASSERT_TRUE(token.has_value()) << token.error().ToString();
  EXPECT_EQ(token->view(), kToken);
}

TEST(JoinTokenTest, RefusesAFileOthersCanRead) {
  TempDir tmp{0755};
  const std::string path = tmp.File("token");
  WriteFile(path, kToken, 0644);
  auto token = ReadJoinToken(path);
  ASSERT_FALSE(token.has_value());
  EXPECT_EQ(token.error().code(), Code::kPermissionDenied);
  EXPECT_NE(token.error().message().find("chmod 600"), std::string::npos)
      << token.error().ToString();
  EXPECT_EQ(ReadJoinToken(tmp.File("missing")).error().code(), Code::kNotFound);
}

TEST(JoinTokenTest, RefusesWhatCannotBeAToken) {
  TempDir tmp{0755};
  const std::string path = tmp.File("token");
  for (const std::string& bad : {std::string("\n"), std::string("two words"), std::string(257, 'a'),
                                 std::string("caf\xc3\xa9")}) {
    WriteFile(path, bad, 0600);
    auto token = ReadJoinToken(path);
    ASSERT_FALSE(token.has_value()) << bad;
    EXPECT_EQ(token.error().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(JoinTokenTest, TakesTheEnvironmentVariableAndRemovesIt) {
  ASSERT_EQ(::setenv(kJoinTokenEnv, (std::string(" ") + kToken + "\n").c_str(), 1), 0);
  auto token = ReadJoinToken("");
  ASSERT_TRUE(token.has_value()) << token.error().ToString();
  EXPECT_EQ(token->view(), kToken);
  EXPECT_EQ(std::getenv(kJoinTokenEnv), nullptr);

  ASSERT_EQ(::setenv(kJoinTokenEnv, "not a token", 1), 0);
  EXPECT_EQ(ReadJoinToken("").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(std::getenv(kJoinTokenEnv), nullptr);
}

TEST(JoinTokenTest, AFileWinsOverTheEnvironment) {
  TempDir tmp{0755};
  const std::string path = tmp.File("token");
  WriteFile(path, kToken, 0600);
  ASSERT_EQ(::setenv(kJoinTokenEnv, "ffffffffffffffffffffffffffffffff", 1), 0);
  auto token = ReadJoinToken(path);
  ::unsetenv(kJoinTokenEnv);
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(token->view(), kToken);
}

}  // namespace
}  // namespace gate::node
