// Host principals, host certificate renewal, running programs, reloading
// sshd and the sshd safe-path rule.
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hooks_test_util.h"
#include "sshd-hooks/node/host_cert.h"
#include "sshd-hooks/node/host_principals.h"
#include "sshd-hooks/node/process.h"
#include "sshd-hooks/node/safe_path.h"
#include "sshd-hooks/node/sshd.h"

namespace gate::hooks {
namespace {

using testing::TempDir;
using testing::WriteFile;

TEST(HostPrincipalsTest, ParseAndMerge) {
  auto p = ParseHostPrincipals("db-1.example.com, 10.0.0.5,fe80::1,db-1.example.com");
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  EXPECT_EQ(*p, (std::vector<std::string>{"db-1.example.com", "10.0.0.5", "fe80::1"}));
  for (const char* bad : {"", "a,,b", "a b", "-x", "a_b", "a/b", "a;b", "x,"}) {
    EXPECT_FALSE(ParseHostPrincipals(bad).has_value()) << bad;
  }
  auto m = MergeHostPrincipals("db-1", {"db-1.example.com", "10.0.0.5", "db-1"});
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(*m, (std::vector<std::string>{"db-1", "db-1.example.com", "10.0.0.5"}));
  m = MergeHostPrincipals("db-1", {});
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(*m, (std::vector<std::string>{"db-1"}));
  std::vector<std::string> many;
  for (int i = 0; i < 40; ++i) many.push_back("h" + std::to_string(i));
  EXPECT_FALSE(MergeHostPrincipals("db-1", many).has_value());
  EXPECT_FALSE(MergeHostPrincipals("bad name", {}).has_value());
  EXPECT_TRUE(LocalHostname().has_value());
}

ssh::Certificate HostCert(const ssh::Ed25519PublicKey& key, std::uint64_t after,
                          std::uint64_t before, ssh::CertType type = ssh::CertType::kHost) {
  ssh::LocalSigner ca(testing::NewKey());
  ssh::CertificateSpec spec;
  spec.type = type;
  spec.public_key = key;
  spec.key_id = "4a6f";
  spec.principals = {"db-1"};
  spec.valid_after = after;
  spec.valid_before = before;
  return ssh::SignCertificate(spec, ca).value();
}

TEST(HostCertTest, RenewsInTheLastThird) {
  const auto key = testing::NewKey();
  const std::uint64_t day = 86400;
  const auto cert = HostCert(key.public_key(), 1000, 1000 + 30 * day);
  EXPECT_FALSE(HostCertNeedsRenewal(cert, 1000));
  EXPECT_FALSE(HostCertNeedsRenewal(cert, 1000 + 20 * day));
  EXPECT_TRUE(HostCertNeedsRenewal(cert, 1000 + 20 * day + 1));
  EXPECT_TRUE(HostCertNeedsRenewal(cert, 1000 + 30 * day));
  EXPECT_TRUE(HostCertNeedsRenewal(cert, 999));
  EXPECT_TRUE(HostCertNeedsRenewal(cert, -1));
}

TEST(HostCertTest, ChecksTypeKeyAndValidity) {
  const auto key = testing::NewKey();
  const auto other = testing::NewKey();
  EXPECT_TRUE(
      CheckHostCertificate(HostCert(key.public_key(), 0, 2000), key.public_key(), 1000).ok());
  EXPECT_FALSE(
      CheckHostCertificate(HostCert(other.public_key(), 0, 2000), key.public_key(), 1000).ok());
  EXPECT_FALSE(CheckHostCertificate(HostCert(key.public_key(), 0, 2000, ssh::CertType::kUser),
                                    key.public_key(), 1000)
                   .ok());
  EXPECT_FALSE(
      CheckHostCertificate(HostCert(key.public_key(), 0, 900), key.public_key(), 1000).ok());
}

TEST(HostCertTest, ReadsFiles) {
  TempDir tmp{0755};
  const auto key = testing::NewKey();
  WriteFile(tmp.File("k.pub"), key.public_key().AuthorizedKey("root@db-1") + "\n");
  auto read = ReadHostPublicKey(tmp.File("k.pub"));
  ASSERT_TRUE(read.has_value()) << read.error().ToString();
  EXPECT_EQ(*read, key.public_key());
  EXPECT_FALSE(ReadHostPublicKey(tmp.File("missing.pub")).has_value());
  const auto cert = HostCert(key.public_key(), 0, 2000);
  WriteFile(tmp.File("c.pub"), ssh::CertificateLine(cert, "db-1") + "\n");
  auto c = ReadHostCertificate(tmp.File("c.pub"));
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->blob, cert.blob);
  EXPECT_EQ(ReadHostCertificate(tmp.File("none")).error().code(), Code::kNotFound);
  EXPECT_EQ(FormatUnixTime(0), "1970-01-01 00:00 UTC");
}

TEST(RunProcessTest, CapturesOutputAndStatusWithACleanEnvironment) {
  setenv("GATE_HOOKS_TEST_LEAK", "1", 1);
  auto r = RunProcess({"/bin/sh", "-c", "echo out; echo err >&2; env; exit 3"});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_NE(r->output.find("out\n"), std::string::npos);
  EXPECT_NE(r->output.find("err\n"), std::string::npos);
  EXPECT_NE(r->output.find("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), std::string::npos);
  EXPECT_EQ(r->output.find("GATE_HOOKS_TEST_LEAK"), std::string::npos);
  unsetenv("GATE_HOOKS_TEST_LEAK");
}

// gate-node sync --every waits for SIGTERM with it blocked; what it runs must
// still stop on one.
TEST(RunProcessTest, ChildStartsWithNoSignalBlocked) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &block, &old), 0);
  auto r = RunProcess({"/bin/sh", "-c", "grep SigBlk /proc/self/status"});
  ASSERT_EQ(pthread_sigmask(SIG_SETMASK, &old, nullptr), 0);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_NE(r->output.find("SigBlk:\t0000000000000000"), std::string::npos) << r->output;
}

TEST(RunProcessTest, Failures) {
  EXPECT_EQ(RunProcess({"/nonexistent/prog"}).error().code(), Code::kUnavailable);
  EXPECT_EQ(RunProcess({"relative"}).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(RunProcess({}).error().code(), Code::kInvalidArgument);
  auto r = RunProcess({"/bin/sh", "-c", "sleep 5"}, std::chrono::milliseconds(200));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  r = RunProcess({"/bin/sh", "-c", "kill -9 $$"});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->exit_code, -1);
}

TEST(SshdTest, TestConfigReportsSshdOutput) {
  TempDir tmp{0755};
  WriteFile(tmp.File("fake-sshd"),
            "#!/bin/sh\necho \"line 3: Bad option $1 $2 $3\" >&2\nexit 255\n", 0755);
  Status s = TestSshdConfig(tmp.File("fake-sshd"), "/etc/ssh/sshd_config");
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("line 3: Bad option -t -f /etc/ssh/sshd_config"), std::string::npos)
      << s.message();
  WriteFile(tmp.File("ok-sshd"), "#!/bin/sh\nexit 0\n", 0755);
  EXPECT_TRUE(TestSshdConfig(tmp.File("ok-sshd"), "/x").ok());
  EXPECT_EQ(TestSshdConfig(tmp.File("missing"), "/x").code(), Code::kUnavailable);
}

TEST(SshdTest, EffectiveSetting) {
  TempDir tmp{0755};
  WriteFile(
      tmp.File("t-sshd"),
      "#!/bin/sh\necho 'port 22'\necho 'trustedusercakeys /var/lib/gate-node/cache/user_ca.pub'\n",
      0755);
  EXPECT_TRUE(SshdEffectiveSettingIs(tmp.File("t-sshd"), "/x", "trustedusercakeys",
                                     "/var/lib/gate-node/cache/user_ca.pub")
                  .value());
  EXPECT_FALSE(
      SshdEffectiveSettingIs(tmp.File("t-sshd"), "/x", "trustedusercakeys", "/other").value());
}

TEST(SshdTest, ChoosesReloadMethod) {
  EXPECT_EQ(ChooseReloadMethod(true, "/run/x.pid").kind, ReloadMethod::Kind::kNone);
  auto m = ChooseReloadMethod(false, "/run/x.pid");
  EXPECT_EQ(m.kind, ReloadMethod::Kind::kPidfile);
  EXPECT_EQ(m.pidfile, "/run/x.pid");
  struct stat st {};
  m = ChooseReloadMethod(false, "");
  if (lstat("/run/systemd/system", &st) == 0) {
    EXPECT_EQ(m.kind, ReloadMethod::Kind::kSystemd);
  } else {
    EXPECT_EQ(m.kind, ReloadMethod::Kind::kPidfile);
    EXPECT_EQ(m.pidfile, "/run/sshd.pid");
  }
  EXPECT_TRUE(ReloadSshd(ChooseReloadMethod(true, "")).ok());
}

TEST(SshdTest, PidfileReloadRefusesWhatIsNotSshd) {
  TempDir tmp{0755};
  ReloadMethod m;
  m.kind = ReloadMethod::Kind::kPidfile;
  m.pidfile = tmp.File("sshd.pid");
  EXPECT_EQ(ReloadSshd(m).code(), Code::kNotFound);
  // Our own pid: a live process that is not sshd must not get a SIGHUP.
  WriteFile(m.pidfile, std::to_string(getpid()) + "\n");
  Status s = ReloadSshd(m);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("not sshd"), std::string::npos) << s.message();
  for (const char* bad : {"", "1\n", "0", "abc", "-5", "123abc"}) {
    WriteFile(m.pidfile, bad);
    EXPECT_EQ(ReloadSshd(m).code(), Code::kFailedPrecondition) << bad;
  }
  WriteFile(m.pidfile, std::to_string(getpid()), 0666);
  EXPECT_EQ(ReloadSshd(m).code(), Code::kPermissionDenied);
}

TEST(SafePathTest, FollowsSshdRules) {
  // /bin/sh: root-owned all the way up on any sane system.
  EXPECT_TRUE(CheckSshdSafeExecutable("/bin/sh").ok());
  EXPECT_EQ(CheckSshdSafeExecutable("bin/sh").code(), Code::kInvalidArgument);
  EXPECT_EQ(CheckSshdSafeExecutable("/nonexistent/gate-principals").code(), Code::kNotFound);

  TempDir tmp{0755};
  WriteFile(tmp.File("gate-principals"), "#!/bin/sh\n", 0755);
  // Under $TMPDIR or /tmp: a sticky world-writable parent, or a file we own
  // as non-root; either way sshd would refuse it.
  Status s = CheckSshdSafeExecutable(tmp.File("gate-principals"));
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_NE(s.message().find("sshd"), std::string::npos) << s.message();
  chmod(tmp.File("gate-principals").c_str(), 0775);
  EXPECT_EQ(CheckSshdSafeExecutable(tmp.File("gate-principals")).code(), Code::kPermissionDenied);
}

}  // namespace
}  // namespace gate::hooks
