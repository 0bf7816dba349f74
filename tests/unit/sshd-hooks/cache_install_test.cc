#include "sshd-hooks/node/cache_install.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gate/bytes.h"
#include "gate/json.h"
#include "gate/krl.h"
#include "gate/node_cache.h"
#include "hooks_test_util.h"

namespace gate::hooks {
namespace {

using testing::ModeOf;

gid_t GroupOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st.st_gid;
}
using testing::ReadFile;
using testing::TempDir;

class CacheInstallTest : public ::testing::Test {
 protected:
  CacheInstallTest() : ca_(testing::NewKey()) {}

  Json::Value Reply(const policy::Snapshot& snapshot, std::uint64_t revoked = 0,
                    std::uint64_t krl_version = 3) const {
    Json::Value r(Json::objectValue);
    r["snapshot"] = policy::SnapshotToJson(snapshot);
    r["user_ca"] = json::StringArray({ca_.public_key().AuthorizedKey("gate user CA")});
    ssh::Krl krl;
    krl.version = krl_version;
    krl.generated_at = 1764000000;
    if (revoked != 0) {
      ssh::KrlCaSection section;
      section.ca = ca_.public_key();
      section.serials = {revoked};
      krl.sections.push_back(section);
    }
    r["krl"] = Base64Encode(ssh::EncodeKrl(krl));
    return r;
  }

  Result<CacheChanges> Install(const Json::Value& reply) {
    auto contents = CacheFromPolicyReply(reply, kHost);
    if (!contents) return Err(contents.error());
    return InstallCache(dir_, *contents, getegid());
  }

  static constexpr char kHost[] = "4a6f0000-0000-4000-8000-000000000001";
  TempDir tmp_{0755};  // others traverse it, as sshd's command user would
  std::string dir_ = tmp_.File("cache");
  ssh::Ed25519PrivateKey ca_;
  policy::Snapshot snapshot_ = testing::DefaultSnapshot();
};

TEST_F(CacheInstallTest, InstallsThreeFilesThatReadBack) {
  auto changes = Install(Reply(snapshot_));
  ASSERT_TRUE(changes.has_value()) << changes.error().ToString();
  EXPECT_TRUE(changes->policy_written);
  EXPECT_TRUE(changes->policy_changed);
  EXPECT_TRUE(changes->user_ca_written);
  EXPECT_TRUE(changes->krl_written);
  EXPECT_TRUE(changes->krl_changed);
  EXPECT_EQ(ModeOf(dir_), 0750u);
  EXPECT_EQ(GroupOf(dir_), getegid());

  node::CacheLocation cache;
  cache.dir = dir_;
  cache.owner = geteuid();
  cache.group = getegid();
  for (const auto& path : {cache.PolicyPath(), cache.UserCaPath(), cache.KrlPath()}) {
    EXPECT_EQ(ModeOf(path), 0640u) << path;
    EXPECT_EQ(GroupOf(path), getegid()) << path;
  }
  EXPECT_TRUE(node::CheckCacheDir(cache).ok());
  auto snapshot = node::ReadSnapshot(cache);
  ASSERT_TRUE(snapshot.has_value()) << snapshot.error().ToString();
  EXPECT_EQ(snapshot->cluster_name, "grav-00");
  EXPECT_EQ(snapshot->users.size(), 2u);
  auto cas = node::ReadUserCaKeys(cache);
  ASSERT_TRUE(cas.has_value());
  ASSERT_EQ(cas->size(), 1u);
  EXPECT_EQ((*cas)[0], ca_.public_key());
  // With its fingerprint, which gate-principals logs without hashing.
  EXPECT_EQ(ReadFile(cache.UserCaPath()),
            ca_.public_key().AuthorizedKey(ca_.public_key().Fingerprint()) + "\n");
  EXPECT_EQ(node::RecordedUserCaFingerprint(cache, ca_.public_key()),
            ca_.public_key().Fingerprint());
  EXPECT_TRUE(ssh::ParseKrl(ReadFile(cache.KrlPath())).has_value());
}

TEST_F(CacheInstallTest, SecondSyncRewritesNothing) {
  ASSERT_TRUE(Install(Reply(snapshot_)).has_value());
  auto again = Install(Reply(snapshot_));
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->policy_written);
  EXPECT_FALSE(again->policy_changed);
  EXPECT_FALSE(again->user_ca_written);
  EXPECT_FALSE(again->krl_written);
  EXPECT_FALSE(again->krl_changed);
  EXPECT_EQ(DescribeCacheChanges(*again), "cache unchanged");
}

TEST_F(CacheInstallTest, NewGeneratedAtIsWrittenButIsNoPolicyChange) {
  ASSERT_TRUE(Install(Reply(snapshot_)).has_value());
  snapshot_.generated_at += 30;
  auto again = Install(Reply(snapshot_));
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->policy_written);
  EXPECT_FALSE(again->policy_changed);
  EXPECT_EQ(DescribeCacheChanges(*again), "cache unchanged");

  snapshot_.locks.push_back({"bob", 0, "gone"});
  again = Install(Reply(snapshot_, 99));
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->policy_changed);
  EXPECT_TRUE(again->krl_written);
  EXPECT_TRUE(again->krl_changed);
  EXPECT_EQ(DescribeCacheChanges(*again), "policy updated, user CA unchanged, KRL updated");

  // A KRL re-issued with a new version but the same revocations.
  again = Install(Reply(snapshot_, 99, 4));
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->krl_written);
  EXPECT_FALSE(again->krl_changed);
  EXPECT_EQ(DescribeCacheChanges(*again), "cache unchanged");
}

TEST_F(CacheInstallTest, RepairsModeOfAnUnchangedFile) {
  ASSERT_TRUE(Install(Reply(snapshot_)).has_value());
  const std::string ca_path = dir_ + "/user_ca.pub";
  chmod(ca_path.c_str(), 0644);
  auto again = Install(Reply(snapshot_));
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->user_ca_written);
  EXPECT_EQ(ModeOf(ca_path), 0640u);
}

// A node joined when the cache was 0755/0644 gets the private layout on its
// next sync, and a wrong group is put right.
TEST_F(CacheInstallTest, MakesAnOpenCachePrivate) {
  ASSERT_TRUE(Install(Reply(snapshot_)).has_value());
  chmod(dir_.c_str(), 0755);
  for (const char* name : {"/policy.db", "/user_ca.pub", "/revoked.krl"}) {
    chmod((dir_ + name).c_str(), 0644);
  }
  auto again = Install(Reply(snapshot_));
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_EQ(ModeOf(dir_), 0750u);
  for (const char* name : {"/policy.db", "/user_ca.pub", "/revoked.krl"}) {
    EXPECT_EQ(ModeOf(dir_ + name), 0640u) << name;
  }
  if (geteuid() == 0) {
    ASSERT_EQ(chown((dir_ + "/policy.db").c_str(), 0, 65534), 0);
    ASSERT_EQ(chown(dir_.c_str(), 0, 65534), 0);
    again = Install(Reply(snapshot_));
    ASSERT_TRUE(again.has_value()) << again.error().ToString();
    EXPECT_TRUE(again->policy_written);
    EXPECT_EQ(GroupOf(dir_ + "/policy.db"), getegid());
    EXPECT_EQ(GroupOf(dir_), getegid());
  }
}

TEST_F(CacheInstallTest, SyncStampIsWrittenLikeTheCacheAndReadsBack) {
  ASSERT_TRUE(WriteSyncStamp(dir_, 1764000123, getegid()).ok());
  node::CacheLocation cache;
  cache.dir = dir_;
  cache.owner = geteuid();
  cache.group = getegid();
  EXPECT_EQ(ReadFile(cache.SyncStampPath()), "1764000123\n");
  EXPECT_EQ(ModeOf(cache.SyncStampPath()), 0640u);
  EXPECT_EQ(ModeOf(dir_), 0750u);
  auto stamp = node::ReadSyncStamp(cache);
  ASSERT_TRUE(stamp.has_value()) << stamp.error().ToString();
  EXPECT_EQ(*stamp, 1764000123);
  ASSERT_TRUE(WriteSyncStamp(dir_, 1764000153, getegid()).ok());
  EXPECT_EQ(node::ReadSyncStamp(cache).value_or(0), 1764000153);
}

TEST_F(CacheInstallTest, BadRepliesKeepTheLastGoodCache) {
  ASSERT_TRUE(Install(Reply(snapshot_)).has_value());
  const std::string policy_before = ReadFile(dir_ + "/policy.db");
  const std::string ca_before = ReadFile(dir_ + "/user_ca.pub");
  const std::string krl_before = ReadFile(dir_ + "/revoked.krl");

  policy::Snapshot changed = snapshot_;
  changed.users.clear();
  std::vector<Json::Value> bad;
  {
    Json::Value r = Reply(changed);
    r["krl"] = Base64Encode("not a KRL");
    bad.push_back(r);
  }
  {
    Json::Value r = Reply(changed);
    r["krl"] = "!!!";
    bad.push_back(r);
  }
  {
    Json::Value r = Reply(changed);
    r["user_ca"] = json::StringArray({"ssh-ed25519 AAAA"});
    bad.push_back(r);
  }
  {
    Json::Value r = Reply(changed);
    r["user_ca"] = Json::Value(Json::arrayValue);
    bad.push_back(r);
  }
  {
    Json::Value r = Reply(changed);
    r["snapshot"]["version"] = 99;
    bad.push_back(r);
  }
  {
    Json::Value r = Reply(changed);
    r["snapshot"].removeMember("users");
    bad.push_back(r);
  }
  {
    Json::Value r = Reply(changed);
    r["snapshot"]["host_uuid"] = "someone-else";
    bad.push_back(r);
  }
  {
    Json::Value r = Reply(changed);
    r.removeMember("krl");
    bad.push_back(r);
  }
  bad.push_back(Json::Value("a string"));
  for (const auto& reply : bad) {
    auto contents = CacheFromPolicyReply(reply, kHost);
    EXPECT_FALSE(contents.has_value()) << json::Write(reply);
    if (contents) {
      ASSERT_TRUE(InstallCache(dir_, *contents, getegid()).has_value());
    }
  }
  EXPECT_EQ(ReadFile(dir_ + "/policy.db"), policy_before);
  EXPECT_EQ(ReadFile(dir_ + "/user_ca.pub"), ca_before);
  EXPECT_EQ(ReadFile(dir_ + "/revoked.krl"), krl_before);
}

TEST_F(CacheInstallTest, ReplacesTheJsonCacheOfAnOlderNode) {
  // What an older gate-node left: readers refuse it until sync replaces it.
  ASSERT_EQ(mkdir(dir_.c_str(), 0755), 0);
  testing::WriteFile(dir_ + "/policy.json", json::Write(policy::SnapshotToJson(snapshot_)) + "\n",
                     0640);
  node::CacheLocation cache;
  cache.dir = dir_;
  cache.owner = geteuid();
  auto before = node::ReadLoginSnapshot(cache, "alice", 1);
  ASSERT_FALSE(before.has_value());
  EXPECT_EQ(before.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(before.error().message().find("gate-node sync"), std::string::npos);

  ASSERT_TRUE(Install(Reply(snapshot_)).has_value());
  EXPECT_NE(access((dir_ + "/policy.json").c_str(), F_OK), 0);
  auto after = node::ReadLoginSnapshot(cache, "alice", 1);
  ASSERT_TRUE(after.has_value()) << after.error().ToString();
  ASSERT_EQ(after->users.size(), 1u);
  EXPECT_EQ(after->users[0].name, "alice");
}

TEST_F(CacheInstallTest, EmptyKrlIsValid) {
  auto contents = CacheFromPolicyReply(Reply(snapshot_), "");
  ASSERT_TRUE(contents.has_value()) << contents.error().ToString();
  EXPECT_FALSE(contents->krl.empty());
}

TEST(UserCaKeysTest, ParsesCommentsAndBlankLines) {
  auto a = testing::NewKey();
  auto b = testing::NewKey();
  auto keys = node::ParseUserCaKeys("# gate\n\n" + a.public_key().AuthorizedKey("one") + "\r\n  " +
                                    b.public_key().AuthorizedKey() + "\n");
  ASSERT_TRUE(keys.has_value()) << keys.error().ToString();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0], a.public_key());
  EXPECT_EQ((*keys)[1], b.public_key());
  EXPECT_TRUE(node::ParseUserCaKeys("").value().empty());
  EXPECT_FALSE(node::ParseUserCaKeys("ssh-rsa AAAAB3NzaC1yc2E=\n").has_value());
  EXPECT_FALSE(node::ParseUserCaKeys(a.public_key().AuthorizedKey() + "\ngarbage\n").has_value());
}

// The comment is the key's fingerprint, so gate-principals names the CA
// without hashing; sshd and ParseUserCaKeys read the keys alone.
TEST(UserCaKeysTest, FormatRecordsEachKeysFingerprint) {
  auto a = testing::NewKey();
  auto b = testing::NewKey();
  const std::string text = node::FormatUserCaKeys({a.public_key(), b.public_key()});
  EXPECT_EQ(text, a.public_key().AuthorizedKey(a.public_key().Fingerprint()) + "\n" +
                      b.public_key().AuthorizedKey(b.public_key().Fingerprint()) + "\n");
  auto keys = node::ParseUserCaKeys(text);
  ASSERT_TRUE(keys.has_value()) << keys.error().ToString();
  EXPECT_EQ(*keys, (std::vector<ssh::Ed25519PublicKey>{a.public_key(), b.public_key()}));
}

}  // namespace
}  // namespace gate::hooks
