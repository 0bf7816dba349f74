#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "cli/common/profile.h"
#include "cli/common/qr.h"
#include "cli/common/signup_token.h"
#include "gate/exit_code.h"
#include "gate/proxy_flags.h"
#include "gate/secure_file.h"

namespace gate::cli {
namespace {

TEST(ExitCodeTest, EveryCodeHasAnExitStatus) {
  const std::pair<Code, int> table[] = {
      {Code::kOk, 0},
      {Code::kInvalidArgument, 2},
      {Code::kNotFound, 5},
      {Code::kAlreadyExists, 1},
      {Code::kPermissionDenied, 3},
      {Code::kUnauthenticated, 3},
      {Code::kResourceExhausted, 3},
      {Code::kFailedPrecondition, 1},
      {Code::kDataLoss, 1},
      {Code::kUnavailable, 4},
      {Code::kInternal, 1},
  };
  for (const auto& [code, exit] : table) {
    EXPECT_EQ(ToExitCode(code), exit) << CodeName(code);
  }
  // An error never maps to success.
  for (int c = 1; c <= static_cast<int>(Code::kInternal); ++c) {
    EXPECT_NE(ToExitCode(static_cast<Code>(c)), 0);
  }
}

TEST(ProxyTest, Normalizes) {
  EXPECT_EQ(NormalizeProxy("grav-00").value(), "grav-00:3080");
  EXPECT_EQ(NormalizeProxy("grav-00:443").value(), "grav-00:443");
  EXPECT_EQ(NormalizeProxy("https://grav-00:3080/").value(), "grav-00:3080");
  EXPECT_EQ(NormalizeProxy("127.0.0.1:9").value(), "127.0.0.1:9");
  EXPECT_FALSE(NormalizeProxy("").has_value());
  EXPECT_FALSE(NormalizeProxy("https://host/path").has_value());
  EXPECT_FALSE(NormalizeProxy("user@host").has_value());
  EXPECT_FALSE(NormalizeProxy("host:99999").has_value());
}

TEST(ProxyTest, InsecureAndPinAreExclusiveAndPinIsChecked) {
  ProxyFlags flags{"host", true, "sha256:" + std::string(64, 'a')};
  EXPECT_EQ(ProxyClientOptions(flags).error().code(), Code::kInvalidArgument);
  flags.insecure = false;
  flags.ca_pin = "sha256:xyz";
  EXPECT_EQ(ProxyClientOptions(flags).error().code(), Code::kInvalidArgument);
  flags.ca_pin = "sha256:" + std::string(64, 'a');
  auto options = ProxyClientOptions(flags);
  ASSERT_TRUE(options.has_value());
  EXPECT_EQ(options->base_url, "https://host:3080");
  EXPECT_FALSE(options->insecure);
}

Profile SampleProfile() {
  Profile p;
  p.proxy = "grav-00:3080";
  p.user = "teleport";
  p.cluster = "grav-00";
  p.logins = {"teleport", "root"};
  p.extensions = {"permit-agent-forwarding", "permit-port-forwarding", "permit-pty"};
  p.valid_after = 1570197636 - 12 * 3600 - 60;
  p.valid_before = 1570197696;  // 2019-10-04 14:01:36 UTC
  p.serial = "42";
  return p;
}

TEST(ProfileTest, FormatsLikeTshLogin) {
  const std::string text = FormatProfile(SampleProfile(), 1570197696 - 12 * 3600);
  EXPECT_EQ(text,
            "> Profile URL:  https://grav-00:3080\n"
            "  Logged in as: teleport\n"
            "  Cluster:      grav-00\n"
            "  Roles:        (none)\n"
            "  Logins:       teleport, root\n"
            "  Valid until:  2019-10-04 14:01:36 +0000 UTC [valid for 12h0m0s]\n"
            "  Extensions:   permit-agent-forwarding, permit-port-forwarding, permit-pty\n");
  EXPECT_NE(FormatProfile(SampleProfile(), 1570197696 + 1).find("[EXPIRED]"), std::string::npos);
}

TEST(ProfileTest, SaveLoadRemove) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("gate-profile-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  ProfileHome home((dir / ".gate").string());
  auto store = home.For("grav-00:3080", "teleport");
  ASSERT_TRUE(store.has_value());
  EXPECT_EQ(store->dir(), (dir / ".gate" / "keys" / "grav-00:3080" / "teleport").string());
  EXPECT_EQ(store->Load().error().code(), Code::kNotFound);
  EXPECT_EQ(home.Current().error().code(), Code::kNotFound);
  Profile sample = SampleProfile();
  sample.host_patterns = {"*.grav-00", "node1"};
  ASSERT_TRUE(store->Save(sample, SecretString("KEY"), "CERT").ok());
  auto loaded = store->Load();
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  EXPECT_EQ(loaded->user, "teleport");
  EXPECT_EQ(loaded->logins, SampleProfile().logins);
  EXPECT_EQ(loaded->valid_before, SampleProfile().valid_before);
  EXPECT_EQ(loaded->host_patterns, sample.host_patterns);
  EXPECT_EQ(std::filesystem::status(store->KeyPath()).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  for (const auto& d :
       {dir / ".gate", dir / ".gate" / "keys", dir / ".gate" / "keys" / "grav-00:3080"}) {
    EXPECT_EQ(std::filesystem::status(d).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_all)
        << d;
  }
  ASSERT_TRUE(home.SetCurrent("grav-00:3080", "teleport").ok());
  auto current = home.Current();
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(current->KeyPath(), store->KeyPath());
  EXPECT_EQ(home.List().size(), 1u);
  ASSERT_TRUE(store->Remove().ok());
  EXPECT_FALSE(std::filesystem::exists(store->KeyPath()));
  EXPECT_TRUE(store->Remove().ok());  // idempotent
  EXPECT_TRUE(home.List().empty());
  std::filesystem::remove_all(dir);
}

TEST(ProfileTest, ProfilesOfTwoClustersLiveSideBySide) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("gate-profiles-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  ProfileHome home(dir.string());
  Profile a = SampleProfile();
  Profile b = SampleProfile();
  b.proxy = "other:3080";
  b.cluster = "other";
  b.user = "bob";
  ASSERT_TRUE(home.For(a.proxy, a.user)->Save(a, SecretString("KEY-A"), "CERT-A").ok());
  ASSERT_TRUE(home.For(b.proxy, b.user)->Save(b, SecretString("KEY-B"), "CERT-B").ok());
  const std::vector<Profile> all = home.List();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].proxy, "grav-00:3080");
  EXPECT_EQ(all[1].proxy, "other:3080");
  EXPECT_EQ(*ReadFile(home.For(a.proxy, a.user)->KeyPath()), "KEY-A");
  EXPECT_EQ(*ReadFile(home.For(b.proxy, b.user)->KeyPath()), "KEY-B");
  std::filesystem::remove_all(dir);
}

TEST(ProfileTest, NamesThatCannotBeDirectoriesAreRefused) {
  ProfileHome home("/nonexistent/.gate");
  for (const auto& [proxy, user] : std::vector<std::pair<std::string, std::string>>{
           {"", "u"}, {"p:1", ""}, {"..", "u"}, {"p:1", ".."}, {"a/b", "u"}, {"p:1", "x/y"}}) {
    EXPECT_EQ(home.For(proxy, user).error().code(), Code::kInvalidArgument) << proxy << " " << user;
    EXPECT_EQ(home.SetCurrent(proxy, user).code(), Code::kInvalidArgument);
  }
}

TEST(ProfileTest, ClusterHostPatternsScopeToTheClusterAndDropWildcards) {
  EXPECT_EQ(ClusterHostPatterns(
                "grav-00", {"node1", "10.0.0.5", "node1", "*", "a,b", "x y", "?", "!evil", "-o"}),
            (std::vector<std::string>{"*.grav-00", "node1", "10.0.0.5", "[*.grav-00]:*",
                                      "[node1]:*", "[10.0.0.5]:*"}));
  // A cluster name that is no host name adds no pattern at all (never "*.").
  EXPECT_EQ(ClusterHostPatterns("bad name", {}), std::vector<std::string>{});
}

TEST(ProfileTest, KnownHostsKeepsOtherClustersAndReplacesItsOwn) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("gate-known-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  ProfileHome home(dir.string());
  ASSERT_TRUE(home.SetCurrent("x:1", "u").ok());  // makes the directory
  ASSERT_TRUE(
      WriteFileAtomic(home.KnownHostsPath(), "mine.example ssh-ed25519 AAAAmine\n", 0644).ok());
  Profile a = SampleProfile();
  a.host_patterns = {"*.grav-00", "node1"};
  Profile b = SampleProfile();
  b.proxy = "other:3080";
  b.cluster = "other";
  b.host_patterns = {"*.other"};
  ASSERT_TRUE(home.WriteClusterTrust(a, {"ssh-ed25519 AAAAold"}).ok());
  ASSERT_TRUE(home.WriteClusterTrust(b, {"ssh-ed25519 AAAAb"}).ok());
  a.host_patterns = {"*.grav-00", "node1", "node2"};
  ASSERT_TRUE(home.WriteClusterTrust(a, {"ssh-ed25519 AAAAnew"}).ok());
  EXPECT_EQ(*ReadFile(home.KnownHostsPath()),
            "mine.example ssh-ed25519 AAAAmine\n"
            "# gate: host CA of cluster other (other:3080)\n"
            "@cert-authority *.other ssh-ed25519 AAAAb gate:other:3080\n"
            "# gate: host CA of cluster grav-00 (grav-00:3080)\n"
            "@cert-authority *.grav-00,node1,node2 ssh-ed25519 AAAAnew gate:grav-00:3080\n");
  std::filesystem::remove_all(dir);
}

TEST(ProfileTest, CorruptProfileIsDataLoss) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("gate-profile-bad-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all);
  ProfileStore store(dir.string(), dir.string() + "/known_hosts");
  ASSERT_TRUE(WriteFileAtomic(store.ProfilePath(), "{\"proxy\": 3}", 0600).ok());
  EXPECT_EQ(store.Load().error().code(), Code::kDataLoss);
  std::filesystem::remove_all(dir);
}

// Reads RenderQr's text back into modules (true: dark), two rows per line.
std::vector<std::vector<bool>> ModulesOf(const std::string& text) {
  std::vector<std::vector<bool>> rows;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = text.find('\n', pos);
    const std::string line = text.substr(pos, end - pos);
    pos = end == std::string::npos ? text.size() : end + 1;
    std::vector<bool> top;
    std::vector<bool> bottom;
    bool fg_dark = false;
    bool bg_dark = false;
    bool coloured = false;
    for (std::size_t i = 0; i < line.size();) {
      if (line.compare(i, 2, "\x1b[") == 0) {
        const std::size_t m = line.find('m', i);
        const std::string sgr = line.substr(i + 2, m - i - 2);
        if (sgr != "0") {
          EXPECT_TRUE(sgr == "30;40" || sgr == "30;107" || sgr == "97;40" || sgr == "97;107")
              << sgr;
          fg_dark = sgr.starts_with("30");
          bg_dark = sgr.ends_with(";40");
          coloured = true;
        }
        i = m + 1;
      } else {
        EXPECT_EQ(line.compare(i, 3, "\u2580"), 0) << "only upper half blocks";
        EXPECT_TRUE(coloured) << "every cell has explicit colours";
        top.push_back(fg_dark);
        bottom.push_back(bg_dark);
        i += 3;
      }
    }
    EXPECT_TRUE(line.ends_with("\x1b[0m")) << "each line resets its colours";
    rows.push_back(top);
    rows.push_back(bottom);
  }
  return rows;
}

TEST(QrTest, ExplicitColoursAndAFourModuleQuietZone) {
  auto qr = RenderQr("otpauth://totp/x:y?secret=ABCDEFGH&issuer=x");
  ASSERT_TRUE(qr.has_value());
  const auto rows = ModulesOf(*qr);
  ASSERT_GT(rows.size(), 20u);
  const std::size_t size = rows[0].size();  // width + 2 * 4
  const int width = static_cast<int>(size) - 8;
  ASSERT_GE(width, 21);
  ASSERT_EQ(rows.size(), size + (size % 2));  // an odd last row pairs with a quiet one
  for (std::size_t y = 0; y < rows.size(); ++y) {
    ASSERT_EQ(rows[y].size(), size) << y;
    for (std::size_t x = 0; x < size; ++x) {
      const bool quiet = x < 4 || y < 4 || x >= size - 4 || y >= size - 4;
      if (quiet) {
        EXPECT_FALSE(rows[y][x]) << "quiet zone at " << x << "," << y;
      }
    }
  }
  // The top-left finder pattern starts right after the quiet zone: a dark
  // 7-module edge, then a light ring, then the 3x3 centre.
  for (int i = 0; i < 7; ++i) {
    EXPECT_TRUE(rows[4][4 + i]);
    EXPECT_TRUE(rows[4 + i][4]);
  }
  EXPECT_FALSE(rows[5][5]);
  EXPECT_TRUE(rows[7][7]);
  EXPECT_FALSE(rows[4][11]) << "separator after the finder";
}

TEST(SignupTokenTest, AcceptsTheTokenOrTheUrlAnAdminShared) {
  const std::string token = "0123456789abcdef0123456789abcdef";
  const std::string accepted[] = {
      token,
      "  " + token + "\r\n",
      "0123456789ABCDEF0123456789ABCDEF",
      "https://gate.example.com:3080/web/newuser/" + token,
      "https://gate.example.com:3080/web/newuser/" + token + "/",
      "https://gate.example.com/web/newuser/" + token + "?utm=x#frag",
  };
  for (const std::string& text : accepted) {
    auto parsed = ParseSignupToken(text);
    ASSERT_TRUE(parsed) << text;
    EXPECT_EQ(parsed->view(), token) << text;
  }
}

TEST(SignupTokenTest, RefusesAnythingElseWithoutRepeatingIt) {
  const std::string rejected[] = {
      "",
      "   ",
      "0123456789abcdef0123456789abcde",    // 31
      "0123456789abcdef0123456789abcdef0",  // 33
      "0123456789abcdef0123456789abcdeg",
      "0123456789abcdef 0123456789abcdef",
      "https://gate.example.com/web/newuser/",
      "https://gate.example.com/web/newuser/0123456789abcdef0123456789abcdef/x",
      "https://gate.example.com/other/0123456789abcdef0123456789abcdef",
  };
  for (const std::string& text : rejected) {
    auto parsed = ParseSignupToken(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().code(), Code::kInvalidArgument);
    if (!text.empty() && text != "   ") {
      EXPECT_EQ(parsed.error().message().find(text), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace gate::cli
