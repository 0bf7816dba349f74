// Reading sshd's configuration as sshd does (Include order, Match context)
// and building the test connections for its Match blocks. The comparison
// with `sshd -T` runs against real sshd in tests/integration/test_nodes.py.
#include "sshd-hooks/node/effective_config.h"

#include <gtest/gtest.h>

#include "hooks_test_util.h"

namespace gate::hooks {
namespace {

using testing::TempDir;
using testing::WriteFile;

TEST(EffectiveConfigTest, ReadsIncludesInOrderWithTheirMatchContext) {
  TempDir tmp{0755};
  const std::string dir = tmp.path();
  WriteFile(dir + "/sshd_config",
            "# comment\n"
            "Include conf.d/*.conf\n"
            "Port=2222\n"
            "Match User alice\n"
            "  Include " +
                dir +
                "/in-match.conf\n"
                "  ForceCommand /bin/true\n");
  ASSERT_EQ(::mkdir((dir + "/conf.d").c_str(), 0755), 0);
  WriteFile(dir + "/conf.d/50-gate.conf", "RevokedKeys /gate.krl\n");
  WriteFile(dir + "/conf.d/10-site.conf", "revokedkeys   /site.krl\nMatch Address 10.0.0.0/8\n");
  WriteFile(dir + "/in-match.conf", "TrustedUserCAKeys /other.pub\n");

  auto lines = ReadSshdConfig(dir + "/sshd_config", dir);
  ASSERT_TRUE(lines.has_value()) << lines.error().ToString();
  std::vector<std::string> seen;
  for (const ConfigLine& l : *lines) {
    seen.push_back(l.file.substr(dir.size()) + ":" + std::to_string(l.line) + " " + l.keyword +
                   " [" + l.value + "] @" +
                   (l.match_at.empty() ? "" : l.match_at.substr(dir.size())));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "/sshd_config:2 include [conf.d/*.conf] @",
                      "/conf.d/10-site.conf:1 revokedkeys [/site.krl] @",
                      // A Match in an included file ends with that file.
                      "/conf.d/10-site.conf:2 match [Address 10.0.0.0/8] @/conf.d/10-site.conf:2",
                      "/conf.d/50-gate.conf:1 revokedkeys [/gate.krl] @",
                      "/sshd_config:3 port [2222] @",
                      "/sshd_config:4 match [User alice] @/sshd_config:4",
                      "/sshd_config:5 include [" + dir + "/in-match.conf] @/sshd_config:4",
                      "/in-match.conf:1 trustedusercakeys [/other.pub] @/sshd_config:4",
                      "/sshd_config:6 forcecommand [/bin/true] @/sshd_config:4",
                  }));
}

TEST(EffectiveConfigTest, MissingConfigAndIncludeLoopsAreErrors) {
  TempDir tmp{0755};
  EXPECT_EQ(ReadSshdConfig(tmp.File("none"), tmp.path()).error().code(), Code::kNotFound);
  WriteFile(tmp.File("loop.conf"), "Include " + tmp.File("loop.conf") + "\n");
  auto loop = ReadSshdConfig(tmp.File("loop.conf"), tmp.path());
  ASSERT_FALSE(loop.has_value());
  EXPECT_NE(loop.error().message().find("nested"), std::string::npos);
}

TEST(EffectiveConfigTest, MatchSpecBuildsAConnectionTheCriteriaMatch) {
  EXPECT_EQ(MatchSpec("User alice,bob"), "addr=192.0.2.1,host=probe.invalid,user=alice");
  EXPECT_EQ(MatchSpec("User !root,deploy*"), "addr=192.0.2.1,host=probe.invalid,user=deployx");
  EXPECT_EQ(MatchSpec("Address 10.0.0.0/8 LocalPort 2222"),
            "addr=10.0.0.1,host=probe.invalid,lport=2222,user=nobody");
  EXPECT_EQ(MatchSpec("Host *.example.com LocalAddress 192.0.2.9"),
            "addr=192.0.2.1,host=x.example.com,laddr=192.0.2.9,user=nobody");
  EXPECT_EQ(MatchSpec("All"), "addr=192.0.2.1,host=probe.invalid,user=nobody");
  EXPECT_EQ(MatchSpec("Group gate-no-such-group"), "");
  EXPECT_EQ(MatchSpec("User"), "");
  EXPECT_EQ(MatchSpec("Unknown x"), "");
  EXPECT_EQ(MatchSpec("User !root"), "addr=192.0.2.1,host=probe.invalid,user=nobody");
  EXPECT_EQ(MatchSpec("User !nobody"), "");
}

TEST(EffectiveConfigTest, ExpectedSettingsAreWhatTheDropInSays) {
  DropInSettings d;
  d.cache_dir = "/var/lib/gate-node/cache";
  d.host_certificate = "/etc/ssh/ssh_host_ed25519_key-cert.pub";
  d.principals_command = "/usr/sbin/gate-principals";
  d.principals_user = "gate-principals";
  auto expected = ExpectedSettings(d);
  ASSERT_EQ(expected.size(), 6u);
  EXPECT_EQ(expected[0].value, "/var/lib/gate-node/cache/user_ca.pub");
  EXPECT_EQ(expected[2].value,
            "/usr/sbin/gate-principals --cache /var/lib/gate-node/cache %u %t %k");
  EXPECT_EQ(expected[4].keyword, "authorizedprincipalsfile");
  EXPECT_EQ(expected[4].value, "none");
  d.record_all_sessions = true;
  expected = ExpectedSettings(d);
  ASSERT_EQ(expected.size(), 10u);
  EXPECT_EQ(expected[6].keyword, "forcecommand");
  EXPECT_EQ(expected[6].value, RecordCommandOf(d));
  EXPECT_EQ(expected[7].keyword, "allowtcpforwarding");
  EXPECT_EQ(expected[9].keyword, "permittunnel");
  for (std::size_t i = 7; i < 10; ++i) EXPECT_EQ(expected[i].value, "no");
  // The drop-in says exactly these values.
  const std::string text = RenderDropIn(d);
  EXPECT_NE(text.find("AuthorizedPrincipalsCommand " + expected[2].value + "\n"),
            std::string::npos);
}

}  // namespace
}  // namespace gate::hooks
