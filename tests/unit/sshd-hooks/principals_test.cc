#include "sshd-hooks/principals/principals.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gate/bytes.h"
#include "gate/node_cache.h"
#include "hooks_test_util.h"

namespace gate::hooks {
namespace {

using testing::TempDir;
using testing::WriteFile;

constexpr std::int64_t kNow = 1764000000;
constexpr std::uint64_t kSerial = 1234567890123456789ULL;

class PrincipalsTest : public ::testing::Test {
 protected:
  PrincipalsTest()
      : ca_(testing::NewKey()), other_ca_(testing::NewKey()), user_key_(testing::NewKey()) {}

  void SetUp() override {
    cache_.dir = tmp_.File("cache");
    cache_.owner = geteuid();
    cache_.group = getegid();
    ASSERT_EQ(mkdir(cache_.dir.c_str(), 0750), 0);
    chmod(cache_.dir.c_str(), 0750);
    snapshot_ = testing::DefaultSnapshot();
    WriteCache();
    WriteStamp(kNow - 30);
  }

  // As gate-node sync leaves them: 0640 in a 0750 directory.
  void WriteCache() {
    WriteFile(cache_.PolicyPath(), testing::SnapshotText(snapshot_), 0640);
    WriteFile(cache_.UserCaPath(), node::FormatUserCaKeys({ca_.public_key()}), 0640);
  }
  void WriteStamp(std::int64_t when) {
    WriteFile(cache_.SyncStampPath(), node::FormatSyncStamp(when), 0640);
  }

  ssh::CertificateSpec Spec() const {
    ssh::CertificateSpec spec;
    spec.type = ssh::CertType::kUser;
    spec.public_key = user_key_.public_key();
    spec.serial = kSerial;
    spec.key_id = "alice";
    spec.principals = {"alice", "postgres"};
    spec.valid_after = kNow - 60;
    spec.valid_before = kNow + 12 * 3600;
    spec.extensions = {{"permit-pty", ""}};
    return spec;
  }

  static std::string Cert(const ssh::CertificateSpec& spec, const ssh::Signer& ca) {
    return Base64Encode(ssh::SignCertificate(spec, ca).value().blob);
  }
  std::string Cert(const ssh::CertificateSpec& spec) const { return Cert(spec, ca_); }

  PrincipalsDecision Decide(const std::string& login, const std::string& b64,
                            std::string type = std::string(ssh::kEd25519CertType),
                            const StalenessRule& staleness = {}, std::int64_t now = kNow) const {
    PrincipalsQuery q;
    q.login = login;
    q.key_type = std::move(type);
    q.key_base64 = b64;
    q.now = now;
    return DecidePrincipals(cache_, q, staleness);
  }

  void ExpectDenied(const PrincipalsDecision& d, const std::string& reason_part) {
    EXPECT_FALSE(d.allow) << d.reason;
    EXPECT_NE(d.reason.find(reason_part), std::string::npos)
        << "reason: '" << d.reason << "', expected to contain '" << reason_part << "'";
  }

  TempDir tmp_{0755};  // others traverse it, as sshd's command user would
  node::CacheLocation cache_;
  policy::Snapshot snapshot_;
  ssh::LocalSigner ca_;
  ssh::LocalSigner other_ca_;
  ssh::Ed25519PrivateKey user_key_;
};

TEST_F(PrincipalsTest, AllowsOwnLogin) {
  const PrincipalsDecision d = Decide("alice", Cert(Spec()));
  EXPECT_TRUE(d.allow) << d.reason;
  EXPECT_EQ(d.key_id, "alice");
  EXPECT_EQ(d.serial, kSerial);
  EXPECT_TRUE(d.ca_fingerprint.empty());  // sshd logs the CA of accepted keys
}

// By the fingerprint gate-node sync recorded in user_ca.pub: the hook does
// not hash (it does not link libcrypto).
TEST_F(PrincipalsTest, DenialsNameTheCaByTheFingerprintSyncRecorded) {
  snapshot_.locks.push_back({"alice", 0, "gone"});
  WriteCache();
  for (const std::string login : {"root", "postgres"}) {  // before and after the cache is read
    const PrincipalsDecision d = Decide(login, Cert(Spec()));
    EXPECT_FALSE(d.allow) << login;
    EXPECT_EQ(d.key_id, "alice");
    EXPECT_EQ(d.ca_fingerprint, ca_.public_key().Fingerprint()) << login;
  }
}

// A CA the cache does not list cannot have a recorded fingerprint: it is
// named by its public key, which an admin finds in its .pub file.
TEST_F(PrincipalsTest, DenialsNameAnUnlistedCaByItsKey) {
  const PrincipalsDecision d = Decide("root", Cert(Spec(), other_ca_));
  EXPECT_FALSE(d.allow);
  EXPECT_EQ(d.key_id, "alice");
  const std::string pub = other_ca_.public_key().AuthorizedKey();
  EXPECT_EQ("ssh-ed25519 " + d.ca_fingerprint, pub);
}

// A user_ca.pub written before fingerprints were recorded (or with a comment
// that is not one) still decides as before; its CA is named by its key.
TEST_F(PrincipalsTest, CacheWithoutRecordedFingerprintsStillDecides) {
  for (const std::string comment : {"", "gate user CA", "SHA256:a b"}) {
    WriteFile(cache_.UserCaPath(), ca_.public_key().AuthorizedKey(comment) + "\n", 0640);
    EXPECT_TRUE(Decide("alice", Cert(Spec())).allow) << comment;
    const PrincipalsDecision d = Decide("nobody-here", Cert(Spec()));
    EXPECT_FALSE(d.allow);
    EXPECT_EQ("ssh-ed25519 " + d.ca_fingerprint, ca_.public_key().AuthorizedKey()) << comment;
  }
  // And an unreadable one denies, naming the CA by its key.
  chmod(cache_.UserCaPath().c_str(), 0666);
  const PrincipalsDecision d = Decide("alice", Cert(Spec()));
  ExpectDenied(d, "cache");
  EXPECT_EQ("ssh-ed25519 " + d.ca_fingerprint, ca_.public_key().AuthorizedKey());
}

TEST_F(PrincipalsTest, AllowsRoleLoginOnMatchingNode) {
  const PrincipalsDecision d = Decide("postgres", Cert(Spec()));
  EXPECT_TRUE(d.allow) << d.reason;
}

TEST_F(PrincipalsTest, DeniesRoleLoginWhenNodeLabelsDoNotMatch) {
  snapshot_.node_labels = {{"env", "staging"}};
  WriteCache();
  ExpectDenied(Decide("postgres", Cert(Spec())), "policy:");
  EXPECT_TRUE(Decide("alice", Cert(Spec())).allow);
}

// --- Recording: command="<recorder>" on the principal line ------------------

TEST_F(PrincipalsTest, NoRecordingRoleNoCommandOption) {
  const PrincipalsDecision d = Decide("postgres", Cert(Spec()));
  ASSERT_TRUE(d.allow) << d.reason;
  EXPECT_FALSE(d.record);
  PrincipalsQuery q;
  q.login = "postgres";
  EXPECT_EQ(FormatPrincipalLine(q, d, kDefaultRecordCommand), "postgres\n");
}

TEST_F(PrincipalsTest, RecordingRoleOnThisNodeForcesTheRecorder) {
  snapshot_.roles[0].record_sessions = true;  // dba, env=prod: this node
  WriteCache();
  for (const std::string login : {"postgres", "alice"}) {  // role's and own login
    const PrincipalsDecision d = Decide(login, Cert(Spec()));
    ASSERT_TRUE(d.allow) << d.reason;
    EXPECT_TRUE(d.record) << login;
    EXPECT_NE(d.reason.find("session recorded"), std::string::npos) << d.reason;
    PrincipalsQuery q;
    q.login = login;
    EXPECT_EQ(FormatPrincipalLine(q, d, kDefaultRecordCommand),
              "no-port-forwarding,command=\"/usr/libexec/gate/gate-record\" " + login + "\n");
    EXPECT_EQ(FormatPrincipalLine(q, d, "/opt/rec/gate-record"),
              "no-port-forwarding,command=\"/opt/rec/gate-record\" " + login + "\n");
    EXPECT_EQ(
        FormatPrincipalLine(q, d, "/opt/rec/gate-record", "/opt/rec/recorder.json"),
        "no-port-forwarding,command=\"/opt/rec/gate-record --config /opt/rec/recorder.json\" " +
            login + "\n");
  }
}

TEST_F(PrincipalsTest, RecordingRoleElsewhereDoesNotRecordHere) {
  snapshot_.roles[0].record_sessions = true;
  snapshot_.node_labels = {{"env", "staging"}};  // dba does not select this node
  WriteCache();
  const PrincipalsDecision d = Decide("alice", Cert(Spec()));
  ASSERT_TRUE(d.allow) << d.reason;
  EXPECT_FALSE(d.record);
}

TEST_F(PrincipalsTest, OnlyHoldersOfTheRoleAreRecorded) {
  snapshot_.roles[0].record_sessions = true;
  WriteCache();
  ssh::CertificateSpec bob = Spec();
  bob.key_id = "bob";
  bob.principals = {"bob"};
  const PrincipalsDecision d = Decide("bob", Cert(bob));
  ASSERT_TRUE(d.allow) << d.reason;
  EXPECT_FALSE(d.record);
}

TEST_F(PrincipalsTest, DenialsPrintNothingEvenForRecordingRoles) {
  snapshot_.roles[0].record_sessions = true;
  snapshot_.locks.push_back({"alice", 0, "gone"});
  WriteCache();
  const PrincipalsDecision d = Decide("postgres", Cert(Spec()));
  EXPECT_FALSE(d.allow);
  EXPECT_FALSE(d.record);
  PrincipalsQuery q;
  q.login = "postgres";
  EXPECT_EQ(FormatPrincipalLine(q, d, kDefaultRecordCommand), "");
  PrincipalsDecision forged;  // record without allow: still nothing
  forged.record = true;
  EXPECT_EQ(FormatPrincipalLine(q, forged, kDefaultRecordCommand), "");
}

TEST_F(PrincipalsTest, DeniesCertificateFromUnlistedCa) {
  ExpectDenied(Decide("alice", Cert(Spec(), other_ca_)), "CA not in");
}

TEST_F(PrincipalsTest, AllowsAnyListedCa) {
  WriteFile(cache_.UserCaPath(),
            "# rotated\n" + node::FormatUserCaKeys({other_ca_.public_key(), ca_.public_key()}),
            0640);
  EXPECT_TRUE(Decide("alice", Cert(Spec())).allow);
}

TEST_F(PrincipalsTest, DeniesLoginNotAmongPrincipals) {
  ExpectDenied(Decide("root", Cert(Spec())), "principals");
  // Allowed by policy (her own login) but not in this certificate.
  auto spec = Spec();
  spec.principals = {"postgres"};
  ExpectDenied(Decide("alice", Cert(spec)), "principals");
}

TEST_F(PrincipalsTest, DeniesExpiredAndNotYetValid) {
  auto spec = Spec();
  spec.valid_after = kNow - 7200;
  spec.valid_before = kNow - 1;
  ExpectDenied(Decide("alice", Cert(spec)), "expired");
  spec.valid_before = kNow;  // valid_before is exclusive
  ExpectDenied(Decide("alice", Cert(spec)), "expired");
  spec.valid_after = kNow + 60;
  spec.valid_before = kNow + 7200;
  ExpectDenied(Decide("alice", Cert(spec)), "not yet valid");
}

TEST_F(PrincipalsTest, DeniesRevokedSerial) {
  snapshot_.revoked_serials = {kSerial};
  WriteCache();
  ExpectDenied(Decide("alice", Cert(Spec())), "revoked");
}

TEST_F(PrincipalsTest, DeniesLockedUser) {
  snapshot_.locks.push_back({"alice", 0, "left the company"});
  WriteCache();
  ExpectDenied(Decide("alice", Cert(Spec())), "locked");
}

TEST_F(PrincipalsTest, ExpiredLockNoLongerDenies) {
  snapshot_.locks.push_back({"alice", kNow - 1, "cooling off"});
  WriteCache();
  EXPECT_TRUE(Decide("alice", Cert(Spec())).allow);
}

TEST_F(PrincipalsTest, DeniesUnknownUser) {
  auto spec = Spec();
  spec.key_id = "mallory";
  spec.principals = {"alice"};
  ExpectDenied(Decide("alice", Cert(spec)), "unknown user");
}

TEST_F(PrincipalsTest, DeniesHostCertificate) {
  auto spec = Spec();
  spec.type = ssh::CertType::kHost;
  ExpectDenied(Decide("alice", Cert(spec)), "not a user certificate");
}

TEST_F(PrincipalsTest, DeniesWrongKeyType) {
  ExpectDenied(Decide("alice", Cert(Spec()), "ssh-ed25519"), "key type");
  ExpectDenied(Decide("alice", Cert(Spec()), "ssh-rsa-cert-v01@openssh.com"), "key type");
  ExpectDenied(Decide("alice", Cert(Spec()), ""), "key type");
}

TEST_F(PrincipalsTest, DeniesMalformedBase64) {
  ExpectDenied(Decide("alice", "not base64!"), "base64");
  ExpectDenied(Decide("alice", ""), "bad certificate");
  ExpectDenied(Decide("alice", std::string(200000, 'A')), "too large");
  // A plain public key, not a certificate.
  ExpectDenied(Decide("alice", Base64Encode(user_key_.public_key().Blob())), "bad certificate");
}

TEST_F(PrincipalsTest, DeniesTruncatedOrAlteredCertificate) {
  const std::string blob = Base64Decode(Cert(Spec())).value();
  ExpectDenied(Decide("alice", Base64Encode(blob.substr(0, blob.size() - 10))), "bad certificate");
  // sshd checks the signature before it runs the hook (whose input is only
  // ever sshd's %k); an altered certificate is still judged on what it says:
  // here a key id no user in the cache has.
  std::string altered = blob;
  const std::size_t key_id = altered.find("alice");
  ASSERT_NE(key_id, std::string::npos);
  altered[key_id] = 'b';
  ExpectDenied(Decide("alice", Base64Encode(altered)), "unknown user");
}

TEST_F(PrincipalsTest, DeniesEmptyLogin) { ExpectDenied(Decide("", Cert(Spec())), "no login"); }

TEST_F(PrincipalsTest, DeniesCorruptPolicy) {
  const std::string cert = Cert(Spec());
  const std::string text = testing::SnapshotText(snapshot_);
  for (const std::string& bad :
       {std::string(""), text.substr(0, text.size() / 2), text.substr(0, 100),
        text.substr(0, text.size() - 1), text + std::string(4096, '\0'), std::string("{}"),
        std::string("not json"), std::string(8192, 'x'),
        json::Write(policy::SnapshotToJson(snapshot_)) + "\n"}) {
    WriteFile(cache_.PolicyPath(), bad, 0640);
    EXPECT_FALSE(Decide("alice", cert).allow) << bad.substr(0, 16);
  }
}

TEST_F(PrincipalsTest, DeniesMissingCacheFiles) {
  const std::string cert = Cert(Spec());
  ASSERT_EQ(unlink(cache_.PolicyPath().c_str()), 0);
  ExpectDenied(Decide("alice", cert), "does not exist");
  WriteCache();
  ASSERT_EQ(unlink(cache_.UserCaPath().c_str()), 0);
  ExpectDenied(Decide("alice", cert), "does not exist");
  cache_.dir = tmp_.File("nowhere");
  ExpectDenied(Decide("alice", cert), "does not exist");
}

TEST_F(PrincipalsTest, DeniesCorruptUserCa) {
  WriteFile(cache_.UserCaPath(), node::FormatUserCaKeys({ca_.public_key()}) + "ssh-ed25519 AAAA\n",
            0640);
  ExpectDenied(Decide("alice", Cert(Spec())), "user_ca.pub");
  WriteFile(cache_.UserCaPath(), "", 0640);
  ExpectDenied(Decide("alice", Cert(Spec())), "CA not in");
}

TEST_F(PrincipalsTest, DeniesSymlinkedCacheFiles) {
  const std::string cert = Cert(Spec());
  const std::string real = tmp_.File("real-policy.db");
  WriteFile(real, testing::SnapshotText(snapshot_));
  ASSERT_EQ(unlink(cache_.PolicyPath().c_str()), 0);
  ASSERT_EQ(symlink(real.c_str(), cache_.PolicyPath().c_str()), 0);
  ExpectDenied(Decide("alice", cert), "symbolic link");

  WriteCache();  // replaces the link with a file
  const std::string real_ca = tmp_.File("real-ca.pub");
  WriteFile(real_ca, node::FormatUserCaKeys({ca_.public_key()}));
  ASSERT_EQ(unlink(cache_.UserCaPath().c_str()), 0);
  ASSERT_EQ(symlink(real_ca.c_str(), cache_.UserCaPath().c_str()), 0);
  ExpectDenied(Decide("alice", cert), "symbolic link");
}

TEST_F(PrincipalsTest, DeniesSymlinkedCacheDir) {
  const std::string link = tmp_.File("cache-link");
  ASSERT_EQ(symlink(cache_.dir.c_str(), link.c_str()), 0);
  cache_.dir = link;
  ExpectDenied(Decide("alice", Cert(Spec())), "symbolic link");
  cache_.dir = link + "/";
  ExpectDenied(Decide("alice", Cert(Spec())), "symbolic link");
}

TEST_F(PrincipalsTest, DeniesGroupOrWorldWritableCache) {
  const std::string cert = Cert(Spec());
  for (mode_t mode : {0666, 0646, 0664}) {
    WriteCache();
    chmod(cache_.PolicyPath().c_str(), mode);
    ExpectDenied(Decide("alice", cert), "writable by group/others");
  }
  WriteCache();
  chmod(cache_.UserCaPath().c_str(), 0666);
  ExpectDenied(Decide("alice", cert), "writable by group/others");
  WriteCache();
  chmod(cache_.dir.c_str(), 0777);
  ExpectDenied(Decide("alice", cert), "writable by group/others");
  chmod(cache_.dir.c_str(), 0770);
  ExpectDenied(Decide("alice", cert), "writable by group/others");
  chmod(cache_.dir.c_str(), 0750);
  EXPECT_TRUE(Decide("alice", cert).allow);
}

// The cache names every user, role and lock: only root and gate-cache may
// read it, and a reader refuses a layout that would show it to others.
TEST_F(PrincipalsTest, DeniesCacheOthersMayRead) {
  const std::string cert = Cert(Spec());
  chmod(cache_.dir.c_str(), 0755);
  ExpectDenied(Decide("alice", cert), "accessible by others");
  chmod(cache_.dir.c_str(), 0751);
  ExpectDenied(Decide("alice", cert), "accessible by others");
  chmod(cache_.dir.c_str(), 0750);
  for (const std::string& path : {cache_.PolicyPath(), cache_.UserCaPath()}) {
    chmod(path.c_str(), 0644);
    ExpectDenied(Decide("alice", cert), "readable by others");
    chmod(path.c_str(), 0640);
  }
  chmod(cache_.SyncStampPath().c_str(), 0644);
  // Under the default (allow) an unreadable stamp only warns...
  const PrincipalsDecision allowed = Decide("alice", cert);
  EXPECT_TRUE(allowed.allow) << allowed.reason;
  EXPECT_NE(allowed.warning.find("readable by others"), std::string::npos) << allowed.warning;
  // ...under deny it refuses.
  ExpectDenied(Decide("alice", cert, std::string(ssh::kEd25519CertType),
                      {StaleCache::kDeny, std::chrono::minutes(10)}),
               "readable by others");
  chmod(cache_.SyncStampPath().c_str(), 0640);
  EXPECT_TRUE(Decide("alice", cert).allow);
}

TEST_F(PrincipalsTest, DeniesCacheDirOfAnotherGroup) {
  cache_.group = getegid() + 1;
  ExpectDenied(Decide("alice", Cert(Spec())), "has group");
}

// --- Staleness: measured from the sync stamp, with the injected clock -------

TEST_F(PrincipalsTest, FreshCacheDecidesWithoutWarning) {
  const StalenessRule deny{StaleCache::kDeny, std::chrono::minutes(10)};
  WriteStamp(kNow - 600);  // exactly the limit: still fresh
  const PrincipalsDecision fresh =
      Decide("alice", Cert(Spec()), std::string(ssh::kEd25519CertType), deny);
  EXPECT_TRUE(fresh.allow) << fresh.reason;
  EXPECT_EQ(fresh.warning, "");
}

TEST_F(PrincipalsTest, StaleCacheUnderDenyRefusesEveryLogin) {
  const StalenessRule deny{StaleCache::kDeny, std::chrono::minutes(10)};
  const std::string type(ssh::kEd25519CertType);
  WriteStamp(kNow - 601);
  const PrincipalsDecision d = Decide("alice", Cert(Spec()), type, deny);
  ExpectDenied(d, "stale policy cache");
  EXPECT_NE(d.reason.find("10m1s ago"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("stale_cache is deny"), std::string::npos) << d.reason;
  // The same stamp is fresh with a longer limit, and an hour later stale again.
  EXPECT_TRUE(
      Decide("alice", Cert(Spec()), type, {StaleCache::kDeny, std::chrono::hours(1)}).allow);
  ExpectDenied(
      Decide("alice", Cert(Spec()), type, {StaleCache::kDeny, std::chrono::hours(1)}, kNow + 3600),
      "stale policy cache");
}

TEST_F(PrincipalsTest, StaleCacheUnderAllowWarnsAndDecidesNormally) {
  const std::string type(ssh::kEd25519CertType);
  WriteStamp(kNow - 7200);
  const PrincipalsDecision d = Decide("alice", Cert(Spec()), type);  // default: allow, 10m
  EXPECT_TRUE(d.allow) << d.reason;
  EXPECT_NE(d.warning.find("stale policy cache (last successful sync 2h0m0s ago"),
            std::string::npos)
      << d.warning;
  // Still decided from the cache: a locked user stays locked.
  snapshot_.locks.push_back({"alice", 0, "gone"});
  WriteCache();
  const PrincipalsDecision locked = Decide("alice", Cert(Spec()), type);
  ExpectDenied(locked, "policy:");
  EXPECT_FALSE(locked.warning.empty());
}

TEST_F(PrincipalsTest, MissingOrCorruptStampDeniesUnderDenyOnly) {
  const StalenessRule deny{StaleCache::kDeny, std::chrono::minutes(10)};
  const std::string type(ssh::kEd25519CertType);
  for (const std::string& bad : {std::string("x\n"), std::string("123"), std::string("-5\n"),
                                 std::string(""), std::string("1764000000 \n")}) {
    WriteFile(cache_.SyncStampPath(), bad, 0640);
    ExpectDenied(Decide("alice", Cert(Spec()), type, deny), "no usable sync stamp");
    const PrincipalsDecision allowed = Decide("alice", Cert(Spec()), type);
    EXPECT_TRUE(allowed.allow) << bad;
    EXPECT_NE(allowed.warning.find("no usable sync stamp"), std::string::npos) << bad;
  }
  ASSERT_EQ(unlink(cache_.SyncStampPath().c_str()), 0);
  ExpectDenied(Decide("alice", Cert(Spec()), type, deny), "does not exist");
  EXPECT_TRUE(Decide("alice", Cert(Spec()), type).allow);
  // A symbolic link, or a stamp others may write, is no stamp.
  const std::string real = tmp_.File("real-stamp");
  WriteFile(real, node::FormatSyncStamp(kNow), 0640);
  ASSERT_EQ(symlink(real.c_str(), cache_.SyncStampPath().c_str()), 0);
  ExpectDenied(Decide("alice", Cert(Spec()), type, deny), "symbolic link");
  ASSERT_EQ(unlink(cache_.SyncStampPath().c_str()), 0);
  WriteStamp(kNow);
  chmod(cache_.SyncStampPath().c_str(), 0660);
  ExpectDenied(Decide("alice", Cert(Spec()), type, deny), "writable by group/others");
}

TEST_F(PrincipalsTest, StampFarInTheFutureIsStale) {
  const StalenessRule deny{StaleCache::kDeny, std::chrono::minutes(10)};
  const std::string type(ssh::kEd25519CertType);
  WriteStamp(kNow + 300);  // a clock that stepped back a little
  EXPECT_TRUE(Decide("alice", Cert(Spec()), type, deny).allow);
  WriteStamp(kNow + 3600);
  ExpectDenied(Decide("alice", Cert(Spec()), type, deny), "in the future");
}

TEST_F(PrincipalsTest, BadCertificateIsRefusedBeforeStaleness) {
  // The certificate is checked before any file: a stale cache changes nothing
  // for a login that was never going to pass.
  WriteStamp(kNow - 7200);
  const PrincipalsDecision d = Decide("alice", "AAAA", std::string(ssh::kEd25519CertType),
                                      {StaleCache::kDeny, std::chrono::minutes(10)});
  EXPECT_FALSE(d.allow);
  EXPECT_EQ(d.reason.find("stale"), std::string::npos) << d.reason;
}

TEST_F(PrincipalsTest, DeniesCacheOwnedBySomeoneElse) {
  // Works without root: we require an owner that is not us.
  cache_.owner = geteuid() + 1;
  ExpectDenied(Decide("alice", Cert(Spec())), "owned by uid");
}

TEST_F(PrincipalsTest, DeniesCacheFileOwnedBySomeoneElseWhenRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  ASSERT_EQ(chown(cache_.PolicyPath().c_str(), 65534, 65534), 0);
  ExpectDenied(Decide("alice", Cert(Spec())), "owned by uid 65534");
}

TEST(JudgeStalenessTest, AgeAgainstTheInjectedClock) {
  const StalenessRule allow{StaleCache::kAllow, std::chrono::minutes(10)};
  const StalenessRule deny{StaleCache::kDeny, std::chrono::minutes(10)};
  const Result<std::int64_t> stamp = std::int64_t{1764000000};
  for (const std::int64_t age : {0, 1, 599, 600, -600}) {
    EXPECT_EQ(JudgeStaleness(deny, stamp, 1764000000 + age).reason, "") << age;
    EXPECT_FALSE(JudgeStaleness(deny, stamp, 1764000000 + age).deny) << age;
  }
  const StalenessVerdict old = JudgeStaleness(deny, stamp, 1764000601);
  EXPECT_TRUE(old.deny);
  EXPECT_EQ(old.reason,
            "stale policy cache (last successful sync 10m1s ago, past the 10m0s limit)");
  const StalenessVerdict warned = JudgeStaleness(allow, stamp, 1764000601);
  EXPECT_FALSE(warned.deny);
  EXPECT_EQ(warned.reason, old.reason);
  EXPECT_TRUE(JudgeStaleness(deny, stamp, 1764000000 - 601).deny);  // stamp in the future
  const Result<std::int64_t> missing = Err(NotFound("/c/synced-at does not exist"));
  EXPECT_TRUE(JudgeStaleness(deny, missing, 1764000000).deny);
  EXPECT_FALSE(JudgeStaleness(allow, missing, 1764000000).deny);
  EXPECT_NE(JudgeStaleness(allow, missing, 1764000000).reason.find("does not exist"),
            std::string::npos);
}

TEST(JudgeStalenessTest, ParsesTheRuleAndTheStamp) {
  EXPECT_EQ(ParseStaleCache("allow").value(), StaleCache::kAllow);
  EXPECT_EQ(ParseStaleCache("deny").value(), StaleCache::kDeny);
  for (const char* bad : {"", "Deny", "no", "deny "}) {
    EXPECT_FALSE(ParseStaleCache(bad).has_value()) << bad;
  }
  EXPECT_EQ(StaleCacheName(StaleCache::kDeny), "deny");
  EXPECT_EQ(node::FormatSyncStamp(1764000000), "1764000000\n");
  EXPECT_EQ(node::ParseSyncStamp("1764000000\n").value(), 1764000000);
  for (const char* bad : {"", "\n", "1764000000", "0\n", "-1\n", "+5\n", "12a\n", "1 \n",
                          "99999999999999999999\n", "1764000000\n\n"}) {
    EXPECT_FALSE(node::ParseSyncStamp(bad).has_value()) << bad;
  }
}

// Decisions on clusters of 1, 10,000 and 100,000 users with 500 roles: a
// login reads only its user's rows, whatever the cluster's size.
class PrincipalsAtScaleTest : public PrincipalsTest, public ::testing::WithParamInterface<int> {};

TEST_P(PrincipalsAtScaleTest, DecidesEveryKindOfUser) {
  const int users = GetParam();
  snapshot_.users.clear();
  snapshot_.roles.clear();
  for (int i = 0; i < 500; ++i) {
    policy::Role role;
    role.name = "role" + std::to_string(i);
    role.logins = {"r" + std::to_string(i)};
    role.node_labels = {{"env", i % 2 == 0 ? "prod" : "dev"}};
    snapshot_.roles.push_back(std::move(role));
  }
  // alice: own login, role2 (this node) and role3 (not this node).
  snapshot_.users.push_back({"alice", {"alice"}, {"role2", "role3"}});
  snapshot_.users.push_back({"lockedout", {"lockedout"}, {"role2"}});
  snapshot_.users.push_back({"revokee", {"revokee"}, {"role2"}});
  for (int i = static_cast<int>(snapshot_.users.size()); i < users; ++i) {
    const std::string name = "user" + std::to_string(i);
    snapshot_.users.push_back(
        {name, {name}, {"role" + std::to_string(i % 500), "role" + std::to_string(i * 7 % 500)}});
  }
  if (users == 1) snapshot_.users.resize(1);
  snapshot_.locks = {{"lockedout", 0, "left the company"}};
  snapshot_.revoked_serials = {kSerial + 1};
  WriteCache();

  auto cert = [&](const std::string& key_id, std::uint64_t serial,
                  std::vector<std::string> principals) {
    ssh::CertificateSpec spec = Spec();
    spec.key_id = key_id;
    spec.serial = serial;
    spec.principals = std::move(principals);
    return Cert(spec);
  };
  const std::string alice = cert("alice", kSerial, {"alice", "r2", "r3", "r4"});
  EXPECT_TRUE(Decide("alice", alice).allow) << Decide("alice", alice).reason;
  EXPECT_TRUE(Decide("r2", alice).allow) << Decide("r2", alice).reason;
  ExpectDenied(Decide("r3", alice), "not allowed on this node");  // role3 selects env=dev
  ExpectDenied(Decide("r4", alice), "not allowed on this node");  // not alice's role
  ExpectDenied(Decide("nobody", cert("nobody", kSerial, {"nobody"})), "unknown user");
  if (users == 1) return;
  ExpectDenied(Decide("lockedout", cert("lockedout", kSerial, {"lockedout"})),
               "user locked: left the company");
  ExpectDenied(Decide("revokee", cert("revokee", kSerial + 1, {"revokee"})), "revoked");
  EXPECT_TRUE(Decide("revokee", cert("revokee", kSerial, {"revokee"})).allow);
  const std::string last = "user" + std::to_string(users - 1);
  EXPECT_TRUE(Decide(last, cert(last, kSerial, {last})).allow);
}

INSTANTIATE_TEST_SUITE_P(Users, PrincipalsAtScaleTest, ::testing::Values(1, 10000, 100000));

TEST_F(PrincipalsTest, DeniesTheJsonCacheOfAnOlderNode) {
  ASSERT_EQ(unlink(cache_.PolicyPath().c_str()), 0);
  WriteFile(cache_.LegacyPolicyPath(), json::Write(policy::SnapshotToJson(snapshot_)) + "\n");
  ExpectDenied(Decide("alice", Cert(Spec())), "run `gate-node sync`");
}

TEST(FormatDecisionLogTest, NamesTheDecisionNeverTheCertificate) {
  PrincipalsQuery q;
  q.login = "alice";
  q.key_type = std::string(ssh::kEd25519CertType);
  q.key_base64 = "AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIL";
  PrincipalsDecision d;
  d.allow = false;
  d.reason = "policy: user locked";
  d.key_id = "alice";
  d.serial = 7;
  d.ca_fingerprint = "SHA256:abc";
  const std::string line = FormatDecisionLog(q, d);
  EXPECT_EQ(line, "deny login=alice user=alice serial=7 ca=SHA256:abc: policy: user locked");
  EXPECT_EQ(line.find(q.key_base64), std::string::npos);

  PrincipalsDecision early;
  early.reason = "certificate is not valid base64";
  EXPECT_EQ(FormatDecisionLog(q, early), "deny login=alice: certificate is not valid base64");
  early.allow = true;
  early.reason.clear();
  EXPECT_EQ(FormatDecisionLog(q, early), "allow login=alice");
  PrincipalsDecision allowed;
  allowed.allow = true;
  allowed.key_id = "alice";
  allowed.serial = 9;
  allowed.reason = "policy: login alice is one of the user's own logins";
  EXPECT_EQ(FormatDecisionLog(q, allowed),
            "allow login=alice user=alice serial=9: policy: login alice is one of the user's own "
            "logins");
}

Result<PrincipalsArgs> Parse(std::vector<const char*> argv) {
  argv.insert(argv.begin(), "gate-principals");
  return ParsePrincipalsArgs(static_cast<int>(argv.size()), argv.data());
}

TEST(ParsePrincipalsArgsTest, SshdCommandLine) {
  auto a = Parse(
      {"--cache", "/var/lib/gate-node/cache", "alice", "ssh-ed25519-cert-v01@openssh.com", "AAAA"});
  ASSERT_TRUE(a.has_value()) << a.error().ToString();
  EXPECT_FALSE(a->help);
  EXPECT_EQ(a->cache.dir, "/var/lib/gate-node/cache");
  EXPECT_EQ(a->cache.owner, 0u);
  EXPECT_EQ(a->login, "alice");
  EXPECT_EQ(a->key_type, "ssh-ed25519-cert-v01@openssh.com");
  EXPECT_EQ(a->key_base64, "AAAA");
}

TEST(ParsePrincipalsArgsTest, DefaultsAndForms) {
  auto a = Parse({"alice", "t", "k"});
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->cache.dir, node::kDefaultCacheDir);
  EXPECT_EQ(a->record_command, "/usr/libexec/gate/gate-record");
  a = Parse({"--record-command", "/opt/gate/rec", "alice", "t", "k"});
  ASSERT_TRUE(a.has_value()) << a.error().ToString();
  EXPECT_EQ(a->record_command, "/opt/gate/rec");
  a = Parse({"--record-command=/usr/lib/gate-record", "alice", "t", "k"});
  ASSERT_TRUE(a.has_value()) << a.error().ToString();
  EXPECT_EQ(a->record_command, "/usr/lib/gate-record");
  EXPECT_TRUE(a->record_config.empty());
  a = Parse({"--record-config", "/opt/gate/recorder.json", "alice", "t", "k"});
  ASSERT_TRUE(a.has_value()) << a.error().ToString();
  EXPECT_EQ(a->record_config, "/opt/gate/recorder.json");
  a = Parse({"--cache=/c", "--cache-owner=1000", "alice", "t", "k"});
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->cache.dir, "/c");
  EXPECT_EQ(a->cache.owner, 1000u);
  a = Parse({"--cache-owner", "0", "--", "-alice", "t", "k"});
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->login, "-alice");
  EXPECT_EQ(a->staleness.mode, StaleCache::kAllow);
  EXPECT_EQ(a->staleness.max_age, std::chrono::minutes(10));
  EXPECT_FALSE(a->cache.group.has_value());
  // What gate-node writes into the drop-in for stale_cache deny.
  a = Parse({"--cache", "/c", "--stale-cache", "deny", "--max-cache-age", "10m0s",
             "--cache-group=50", "alice", "t", "k"});
  ASSERT_TRUE(a.has_value()) << a.error().ToString();
  EXPECT_EQ(a->staleness.mode, StaleCache::kDeny);
  EXPECT_EQ(a->staleness.max_age, std::chrono::minutes(10));
  EXPECT_EQ(a->cache.group, gid_t{50});
  a = Parse({"--stale-cache=allow", "--max-cache-age=1h30m", "alice", "t", "k"});
  ASSERT_TRUE(a.has_value()) << a.error().ToString();
  EXPECT_EQ(a->staleness.mode, StaleCache::kAllow);
  EXPECT_EQ(a->staleness.max_age, std::chrono::minutes(90));
  a = Parse({"--help"});
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->help);
  a = Parse({"alice", "-h"});
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->help);
}

TEST(ParsePrincipalsArgsTest, RejectsBadCommandLines) {
  for (const std::vector<const char*>& argv : std::vector<std::vector<const char*>>{
           {},
           {"alice"},
           {"alice", "t"},
           {"alice", "t", "k", "extra"},
           {"--cache"},
           {"--cache", "", "a", "t", "k"},
           {"--cache-owner", "x", "a", "t", "k"},
           {"--cache-owner", "-1", "a", "t", "k"},
           {"--cache-owner", "4294967295", "a", "t", "k"},
           {"--cache-owner", "99999999999999999999", "a", "t", "k"},
           {"--cache-group", "x", "a", "t", "k"},
           {"--stale-cache", "maybe", "a", "t", "k"},
           {"--stale-cache", "", "a", "t", "k"},
           {"--stale-cache"},
           {"--max-cache-age", "10", "a", "t", "k"},
           {"--max-cache-age", "0s", "a", "t", "k"},
           {"--max-cache-age", "-5m", "a", "t", "k"},
           {"--bogus", "a", "t", "k"},
           {"-x", "a", "t", "k"},
           {"--record-command"},
           {"--record-command", "", "a", "t", "k"},
           {"--record-command", "gate-record", "a", "t", "k"},  // relative
           {"--record-command", "/usr/bin/gate record", "a", "t", "k"},
           {"--record-command", "/usr/bin/gate\"record", "a", "t", "k"},
           {"--record-command", "/usr/bin/gate'record", "a", "t", "k"},
           {"--record-command", "/usr/bin/gate\\record", "a", "t", "k"},
           {"--record-command", "/usr/bin/gate\trecord", "a", "t", "k"},
           {"--record-command", "/usr/bin/gate\nrecord", "a", "t", "k"},
           {"--record-command", "/usr/bin/%u", "a", "t", "k"},
           {"--record-command", "/usr/bin/#rec", "a", "t", "k"},
           {"--record-config", "", "a", "t", "k"},
           {"--record-config", "recorder.json", "a", "t", "k"},
           {"--record-config", "/etc/gate/rec order.json", "a", "t", "k"},
           {"--record-config", "/etc/gate/\"x", "a", "t", "k"},
       }) {
    auto a = Parse(argv);
    std::string joined;
    for (const char* s : argv) joined += std::string(s) + " ";
    ASSERT_FALSE(a.has_value()) << joined;
    EXPECT_EQ(a.error().code(), Code::kInvalidArgument) << joined;
  }
}

TEST(ParsePrincipalsArgsTest, ToleratesNullArgv) {
  const char* argv[] = {"gate-principals", nullptr};
  EXPECT_FALSE(ParsePrincipalsArgs(1, argv).has_value());
  EXPECT_FALSE(ParsePrincipalsArgs(0, argv).has_value());
}

}  // namespace
}  // namespace gate::hooks
