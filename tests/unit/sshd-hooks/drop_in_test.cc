#include "sshd-hooks/principals/drop_in.h"

#include <gtest/gtest.h>

namespace gate::hooks {
namespace {

DropInSettings Defaults() {
  DropInSettings s;
  s.cache_dir = "/var/lib/gate-node/cache";
  s.host_certificate = "/etc/ssh/ssh_host_ed25519_key-cert.pub";
  s.principals_command = "/usr/sbin/gate-principals";
  s.principals_user = "gate-principals";
  return s;
}

// docs/node-protocol.md, "The sshd drop-in", verbatim.
TEST(DropInTest, DefaultsRenderExactlyAsDocumented) {
  EXPECT_EQ(RenderDropIn(Defaults()),
            "# Managed by gate-node join; gate-node leave removes it.\n"
            "TrustedUserCAKeys /var/lib/gate-node/cache/user_ca.pub\n"
            "RevokedKeys /var/lib/gate-node/cache/revoked.krl\n"
            "HostCertificate /etc/ssh/ssh_host_ed25519_key-cert.pub\n"
            "AuthorizedPrincipalsCommand /usr/sbin/gate-principals --cache "
            "/var/lib/gate-node/cache %u %t %k\n"
            "AuthorizedPrincipalsCommandUser gate-principals\n"
            "ExposeAuthInfo yes\n");
  EXPECT_TRUE(ValidateDropIn(Defaults()).ok());
}

// The node operator's stale-cache rule reaches gate-principals through its
// command line; the default writes nothing, so existing drop-ins stay as they
// are.
TEST(DropInTest, StaleCacheRuleBecomesPrincipalsFlags) {
  DropInSettings s = Defaults();
  EXPECT_EQ(PrincipalsCommandOf(s),
            "/usr/sbin/gate-principals --cache /var/lib/gate-node/cache %u %t %k");
  s.staleness.mode = StaleCache::kDeny;
  EXPECT_EQ(PrincipalsCommandOf(s),
            "/usr/sbin/gate-principals --cache /var/lib/gate-node/cache --stale-cache deny "
            "--max-cache-age 10m0s %u %t %k");
  s.staleness.max_age = std::chrono::seconds(90);
  EXPECT_NE(RenderDropIn(s).find("--stale-cache deny --max-cache-age 1m30s %u %t %k\n"),
            std::string::npos);
  s.staleness.mode = StaleCache::kAllow;
  EXPECT_EQ(PrincipalsCommandOf(s),
            "/usr/sbin/gate-principals --cache /var/lib/gate-node/cache --max-cache-age 1m30s "
            "%u %t %k");
}

TEST(DropInTest, PathsComeFromSettings) {
  DropInSettings s;
  s.cache_dir = "/tmp/t/data/cache";
  s.host_certificate = "/tmp/t/ssh/ssh_host_ed25519_key-cert.pub";
  s.principals_command = "/opt/gate/sbin/gate-principals";
  s.principals_user = "gp";
  const std::string text = RenderDropIn(s);
  EXPECT_NE(text.find("TrustedUserCAKeys /tmp/t/data/cache/user_ca.pub\n"), std::string::npos);
  EXPECT_NE(text.find("RevokedKeys /tmp/t/data/cache/revoked.krl\n"), std::string::npos);
  EXPECT_NE(text.find("HostCertificate /tmp/t/ssh/ssh_host_ed25519_key-cert.pub\n"),
            std::string::npos);
  EXPECT_NE(text.find("AuthorizedPrincipalsCommand /opt/gate/sbin/gate-principals --cache "
                      "/tmp/t/data/cache %u %t %k\n"),
            std::string::npos);
  EXPECT_NE(text.find("AuthorizedPrincipalsCommandUser gp\n"), std::string::npos);
  EXPECT_TRUE(text.starts_with(kDropInHeader));
}

TEST(DropInTest, RefusesValuesSshdWouldNotTakeLiterally) {
  for (const char* bad : {"relative/cache", "", "/with space", "/with\ttab", "/percent%u",
                          "/hash#comment", "/quote\"", "/quote'", "/back\\slash", "/nl\n"}) {
    DropInSettings s = Defaults();
    s.cache_dir = bad;
    EXPECT_EQ(ValidateDropIn(s).code(), Code::kInvalidArgument) << bad;
    s = Defaults();
    s.principals_command = bad;
    EXPECT_EQ(ValidateDropIn(s).code(), Code::kInvalidArgument) << bad;
    s = Defaults();
    s.host_certificate = bad;
    EXPECT_EQ(ValidateDropIn(s).code(), Code::kInvalidArgument) << bad;
  }
  for (const char* bad : {"", "Root", "has space", "-dash", "a%u", "a\nb"}) {
    DropInSettings s = Defaults();
    s.principals_user = bad;
    EXPECT_EQ(ValidateDropIn(s).code(), Code::kInvalidArgument) << bad;
  }
}

TEST(DropInTest, RecordingAddsForceCommandAndRecorderPath) {
  DropInSettings s = Defaults();
  s.record_all_sessions = true;
  ASSERT_TRUE(ValidateDropIn(s).ok());
  // Default recorder: gate-principals' default too, so no flag for it.
  EXPECT_EQ(RenderDropIn(s),
            "# Managed by gate-node join; gate-node leave removes it.\n"
            "TrustedUserCAKeys /var/lib/gate-node/cache/user_ca.pub\n"
            "RevokedKeys /var/lib/gate-node/cache/revoked.krl\n"
            "HostCertificate /etc/ssh/ssh_host_ed25519_key-cert.pub\n"
            "AuthorizedPrincipalsCommand /usr/sbin/gate-principals --cache "
            "/var/lib/gate-node/cache %u %t %k\n"
            "AuthorizedPrincipalsCommandUser gate-principals\n"
            "ExposeAuthInfo yes\n"
            "AllowTcpForwarding no\n"
            "AllowStreamLocalForwarding no\n"
            "PermitTunnel no\n"
            "ForceCommand /usr/libexec/gate/gate-record\n");
  EXPECT_EQ(RecordCommandOf(s), "/usr/libexec/gate/gate-record");

  s.record_command = "/opt/gate/gate-record";
  const std::string text = RenderDropIn(s);
  EXPECT_NE(text.find("AuthorizedPrincipalsCommand /usr/sbin/gate-principals --cache "
                      "/var/lib/gate-node/cache --record-command /opt/gate/gate-record %u %t %k\n"),
            std::string::npos)
      << text;
  EXPECT_TRUE(text.ends_with("ForceCommand /opt/gate/gate-record\n")) << text;

  s.record_config = "/opt/gate/recorder.json";
  const std::string with_config = RenderDropIn(s);
  EXPECT_NE(with_config.find("--record-command /opt/gate/gate-record --record-config "
                             "/opt/gate/recorder.json %u %t %k\n"),
            std::string::npos)
      << with_config;
  EXPECT_TRUE(with_config.ends_with(
      "ForceCommand /opt/gate/gate-record --config /opt/gate/recorder.json\n"))
      << with_config;
  EXPECT_EQ(RecordCommandOf(s), "/opt/gate/gate-record --config /opt/gate/recorder.json");
  s.record_config.clear();

  // Roles only: gate-principals learns the path, sshd forces nothing.
  s.record_all_sessions = false;
  const std::string roles_only = RenderDropIn(s);
  EXPECT_NE(roles_only.find("--record-command /opt/gate/gate-record %u"), std::string::npos);
  EXPECT_EQ(roles_only.find("ForceCommand"), std::string::npos);
  EXPECT_EQ(roles_only.find("AllowTcpForwarding"), std::string::npos);
}

TEST(DropInTest, RefusesRecorderPathsSshdWouldNotTakeLiterally) {
  for (const char* bad : {"relative/rec", "/with space", "/with\ttab", "/percent%u", "/hash#x",
                          "/quote\"", "/quote'", "/back\\slash", "/nl\n"}) {
    DropInSettings s = Defaults();
    s.record_command = bad;
    EXPECT_EQ(ValidateDropIn(s).code(), Code::kInvalidArgument) << bad;
    s = Defaults();
    s.record_config = bad;
    EXPECT_EQ(ValidateDropIn(s).code(), Code::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace gate::hooks
