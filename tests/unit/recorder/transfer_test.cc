// Which exec commands are file transfers audited as metadata, and that
// nothing a shell could turn into more than the program is one.
#include "recorder/session/transfer.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace gate::recorder {
namespace {

std::optional<std::string> Finder(std::string_view name) {
  static const std::map<std::string, std::string, std::less<>> kPrograms = {
      {"scp", "/usr/bin/scp"},
      {"rsync", "/usr/bin/rsync"},
      {"sftp-server", "/usr/lib/openssh/sftp-server"}};
  auto it = kPrograms.find(name);
  if (it == kPrograms.end()) return std::nullopt;
  return it->second;
}

std::optional<Transfer> Classify(std::string_view command) {
  return ClassifyTransfer(command, Finder);
}

TEST(TransferTest, RecognisesTheServerSidesOfScpSftpAndRsync) {
  auto scp = Classify("scp -t scp-legacy.bin");
  ASSERT_TRUE(scp.has_value());
  EXPECT_EQ(scp->kind, "scp");
  EXPECT_EQ(scp->program, "/usr/bin/scp");
  EXPECT_EQ(scp->argv, (std::vector<std::string>{"scp", "-t", "scp-legacy.bin"}));
  auto scp_from = Classify("scp -r -p -f -- dir/a.txt");
  ASSERT_TRUE(scp_from.has_value());
  EXPECT_EQ(scp_from->kind, "scp");

  auto sftp = Classify("/usr/lib/openssh/sftp-server");
  ASSERT_TRUE(sftp.has_value());
  EXPECT_EQ(sftp->kind, "sftp");
  EXPECT_EQ(sftp->argv, (std::vector<std::string>{"sftp-server"}));

  auto rsync = Classify("rsync --server -logDtpre.iLsfxCIvu . rsync.bin");
  ASSERT_TRUE(rsync.has_value());
  EXPECT_EQ(rsync->kind, "rsync");
  EXPECT_EQ(rsync->program, "/usr/bin/rsync");
  EXPECT_EQ(rsync->argv.size(), 5u);
}

// Under a ForceCommand sshd hands `Subsystem sftp internal-sftp` over as
// the word internal-sftp, which no shell can run.
TEST(TransferTest, InternalSftpRunsTheSystemsSftpServer) {
  auto t = Classify("internal-sftp -l INFO -u 022");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->kind, "sftp");
  EXPECT_EQ(t->program, "/usr/lib/openssh/sftp-server");
  EXPECT_EQ(t->argv, (std::vector<std::string>{"sftp-server", "-l", "INFO", "-u", "022"}));
}

TEST(TransferTest, ShellSyntaxIsNeverATransfer) {
  for (const char* command :
       {"scp -t x; bash", "scp -t x|sh", "scp -t $(id)", "scp -t `id`", "scp -t 'x'",
        "scp -t \"x\"", "scp -t x&", "scp -t x>y", "scp -t ~/x", "scp  -t x", "scp -t x\nid",
        "scp -t *", "rsync --server . a\\ b", "scp\t-t x", ""}) {
    EXPECT_FALSE(Classify(command).has_value()) << command;
  }
}

TEST(TransferTest, ClientModesAndProgramRunningOptionsAreNotTransfers) {
  for (const char* command :
       {"scp a b", "scp -o ProxyCommand=x -t y", "scp -S /bin/sh -t y", "scp -oPort=2 -t y",
        "scp -F cfg -t y", "rsync a b", "rsync --server --daemon .",
        "rsync --server --config=/tmp/c --daemon .", "rsync --server -M--foo . x",
        "rsync --server --dparam=x . y", "sftp-serverx", "bash", "sftp user@host"}) {
    EXPECT_FALSE(Classify(command).has_value()) << command;
  }
}

TEST(TransferTest, OnlyTheSystemsCopyOfAProgramIsRun) {
  EXPECT_FALSE(Classify("/home/alice/scp -t x").has_value());
  EXPECT_FALSE(Classify("./rsync --server . x").has_value());
  EXPECT_FALSE(Classify("/tmp/sftp-server").has_value());
  EXPECT_TRUE(Classify("/usr/bin/scp -t x").has_value());
  // A node without the program: not a transfer (the shell reports it).
  EXPECT_FALSE(ClassifyTransfer("scp -t x", [](std::string_view) {
                 return std::optional<std::string>();
               }).has_value());
}

TEST(TransferTest, FindSystemProgramAcceptsOnlyRootOwnedSystemFiles) {
  EXPECT_FALSE(FindSystemProgram("bash").has_value());
  EXPECT_FALSE(FindSystemProgram("../bin/sh").has_value());
  if (auto sftp = FindSystemProgram("sftp-server")) {
    EXPECT_TRUE(sftp->starts_with("/usr/")) << *sftp;
  }
}

}  // namespace
}  // namespace gate::recorder
