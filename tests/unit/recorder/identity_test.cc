#include "recorder/session/identity.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <string>

#include "gate/bytes.h"
#include "gate/certificate.h"
#include "sshd-hooks/hooks_test_util.h"

namespace gate::recorder {
namespace {

using testing::TempDir;
using testing::WriteFile;

constexpr std::int64_t kNow = 1764000000;

class IdentityTest : public ::testing::Test {
 protected:
  IdentityTest()
      : ca_(testing::NewKey()), other_ca_(testing::NewKey()), user_key_(testing::NewKey()) {}

  void SetUp() override {
    cache_ = testing::MakeCacheDir(tmp_);
    ASSERT_FALSE(cache_.dir.empty());
    snapshot_ = testing::DefaultSnapshot();
    WriteCache();
  }

  void WriteCache() {
    WriteFile(cache_.PolicyPath(), testing::SnapshotText(snapshot_), 0640);
    WriteFile(cache_.UserCaPath(), node::FormatUserCaKeys({ca_.public_key()}), 0640);
  }

  ssh::CertificateSpec Spec() const {
    ssh::CertificateSpec spec;
    spec.type = ssh::CertType::kUser;
    spec.public_key = user_key_.public_key();
    spec.serial = 42;
    spec.key_id = "alice";
    spec.principals = {"alice", "postgres"};
    spec.valid_after = kNow - 60;
    spec.valid_before = kNow + 12 * 3600;
    spec.extensions = {{"permit-pty", ""}};
    return spec;
  }

  static std::string Line(const ssh::CertificateSpec& spec, const ssh::Signer& ca) {
    return "publickey " + ssh::CertificateLine(ssh::SignCertificate(spec, ca).value()) + "\n";
  }
  std::string Line(const ssh::CertificateSpec& spec) const { return Line(spec, ca_); }

  Result<Identity> Resolve(const std::string& auth, const std::string& login = "postgres") {
    return ResolveIdentity(auth, login, cache_, kNow);
  }

  void ExpectDenied(const std::string& auth, const std::string& part,
                    const std::string& login = "postgres") {
    auto id = Resolve(auth, login);
    ASSERT_FALSE(id.has_value()) << "allowed: " << auth;
    EXPECT_EQ(id.error().code(), Code::kPermissionDenied);
    EXPECT_NE(id.error().message().find(part), std::string::npos)
        << "'" << id.error().message() << "' does not mention '" << part << "'";
  }

  TempDir tmp_{0755};
  node::CacheLocation cache_;
  policy::Snapshot snapshot_;
  ssh::LocalSigner ca_;
  ssh::LocalSigner other_ca_;
  ssh::Ed25519PrivateKey user_key_;
};

TEST_F(IdentityTest, CertificateAllowedByPolicy) {
  // As sshd writes it with a second factor after the certificate.
  auto id = Resolve(Line(Spec()) + "keyboard-interactive/pam\n");
  ASSERT_TRUE(id.has_value()) << id.error().ToString();
  EXPECT_EQ(id->user, "alice");
  EXPECT_EQ(id->login, "postgres");
  EXPECT_EQ(id->serial, 42u);
  EXPECT_EQ(id->cluster, "grav-00");
}

TEST_F(IdentityTest, PlainKeysAndOtherMethodsAreNotAnIdentity) {
  const std::string plain = "publickey " + user_key_.public_key().AuthorizedKey() + "\npassword\n";
  ExpectDenied(plain, "not authenticated with a Gate certificate");
  ExpectDenied("", "not authenticated with a Gate certificate");
}

TEST_F(IdentityTest, RefusesMalformedCertificates) {
  ExpectDenied("publickey ssh-ed25519-cert-v01@openssh.com !!!notbase64\n", "bad certificate");
  ExpectDenied("publickey ssh-ed25519-cert-v01@openssh.com AAAAAAAA\n", "bad certificate");
  ExpectDenied("publickey ssh-ed25519-cert-v01@openssh.com\n", "bad certificate");
  // A flipped byte in the signed part: the signature no longer verifies.
  std::string line = Line(Spec());
  const std::size_t sp = line.find(' ', std::string("publickey ").size());
  std::string blob = Base64Decode(line.substr(sp + 1, line.size() - sp - 2)).value();
  blob[blob.size() / 2] ^= 0x01;
  ExpectDenied("publickey ssh-ed25519-cert-v01@openssh.com " + Base64Encode(blob) + "\n",
               "bad certificate");
}

TEST_F(IdentityTest, RefusesTwoCertificates) {
  auto other = Spec();
  other.key_id = "bob";
  ExpectDenied(Line(Spec()) + Line(other), "more than one certificate");
}

TEST_F(IdentityTest, RefusesHostCertificates) {
  auto spec = Spec();
  spec.type = ssh::CertType::kHost;
  ExpectDenied(Line(spec), "not a user certificate");
}

TEST_F(IdentityTest, RefusesCertificatesNotValidNow) {
  auto expired = Spec();
  expired.valid_after = kNow - 7200;
  expired.valid_before = kNow - 3600;
  ExpectDenied(Line(expired), "expired");
  auto future = Spec();
  future.valid_after = kNow + 3600;
  future.valid_before = kNow + 7200;
  ExpectDenied(Line(future), "not yet valid");
}

TEST_F(IdentityTest, RefusesLoginNotAPrincipal) {
  ExpectDenied(Line(Spec()), "principals", "root");
}

TEST_F(IdentityTest, RefusesUnknownCa) { ExpectDenied(Line(Spec(), other_ca_), "CA not in"); }

TEST_F(IdentityTest, RefusesWhatPolicyDenies) {
  // bob's certificate names postgres, but bob holds no role granting it.
  auto bob = Spec();
  bob.key_id = "bob";
  ExpectDenied(Line(bob), "policy");
  // A locked user.
  snapshot_.locks.push_back({"alice", 0, "under investigation"});
  WriteCache();
  ExpectDenied(Line(Spec()), "policy");
  // A revoked serial.
  snapshot_.locks.clear();
  snapshot_.revoked_serials = {42};
  WriteCache();
  ExpectDenied(Line(Spec()), "policy");
}

TEST_F(IdentityTest, RefusesUnsafeOrMissingCache) {
  const std::string line = Line(Spec());
  ASSERT_EQ(chmod(cache_.PolicyPath().c_str(), 0666), 0);
  ExpectDenied(line, "cache");
  ASSERT_EQ(chmod(cache_.PolicyPath().c_str(), 0644), 0);  // readable by others
  ExpectDenied(line, "cache");
  ASSERT_EQ(chmod(cache_.PolicyPath().c_str(), 0640), 0);
  WriteFile(cache_.PolicyPath(), "{not json", 0640);
  ExpectDenied(line, "cache");
  ASSERT_EQ(unlink(cache_.PolicyPath().c_str()), 0);
  ExpectDenied(line, "cache");
  ASSERT_EQ(chmod(cache_.dir.c_str(), 0777), 0);
  ExpectDenied(line, "cache");
  ASSERT_EQ(chmod(cache_.dir.c_str(), 0755), 0);  // others may search it
  ExpectDenied(line, "cache");
  ASSERT_EQ(chmod(cache_.dir.c_str(), 0750), 0);
  node::CacheLocation wrong_group = cache_;
  wrong_group.group = getegid() + 1;
  auto by_group = ResolveIdentity(line, "postgres", wrong_group, kNow);
  ASSERT_FALSE(by_group.has_value());
  EXPECT_NE(by_group.error().message().find("has group"), std::string::npos);
  node::CacheLocation other = cache_;
  other.owner = cache_.owner + 1;
  auto id = ResolveIdentity(line, "postgres", other, kNow);
  ASSERT_FALSE(id.has_value());
  EXPECT_NE(id.error().message().find("cache"), std::string::npos);
}

TEST_F(IdentityTest, RefusesOversizedAuthInfoAndEmptyLogin) {
  ExpectDenied(std::string(kMaxAuthInfoSize + 1, 'x'), "too large");
  ExpectDenied(Line(Spec()), "no OS login", "");
}

TEST_F(IdentityTest, AuthInfoFileMustBeTheUsersAndPrivate) {
  const std::string path = tmp_.File("sshauth.abc");
  const std::string text = Line(Spec());
  WriteFile(path, text, 0600);
  auto read = ReadAuthInfoFile(path, ::geteuid());
  ASSERT_TRUE(read.has_value()) << read.error().ToString();
  EXPECT_EQ(*read, text);

  // sshd makes it 0600: anything readable by others was not left by sshd.
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto loose = ReadAuthInfoFile(path, ::geteuid());
  ASSERT_FALSE(loose.has_value());
  EXPECT_EQ(loose.error().code(), Code::kPermissionDenied);
  EXPECT_NE(loose.error().message().find("cannot read SSH_USER_AUTH"), std::string::npos);
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);

  // Someone else's file.
  EXPECT_EQ(ReadAuthInfoFile(path, ::geteuid() + 1).error().code(), Code::kPermissionDenied);
  // A link to the user's file is not the file.
  const std::string link = tmp_.File("link");
  ASSERT_EQ(::symlink(path.c_str(), link.c_str()), 0);
  EXPECT_EQ(ReadAuthInfoFile(link, ::geteuid()).error().code(), Code::kPermissionDenied);
  EXPECT_EQ(ReadAuthInfoFile(tmp_.File("missing"), ::geteuid()).error().code(),
            Code::kPermissionDenied);
  WriteFile(path, std::string(kMaxAuthInfoSize + 1, 'x'), 0600);
  EXPECT_FALSE(ReadAuthInfoFile(path, ::geteuid()).has_value());
}

// A process table for CheckStartedBySshd: what sshd 9.x leaves above the
// recorder, and what a user can arrange instead.
class StartedBySshdTest : public ::testing::Test {
 protected:
  static constexpr uid_t kUser = 1001;

  void Add(pid_t pid, pid_t ppid, uid_t uid, std::string argv0) {
    ProcessView v;
    v.ppid = ppid;
    v.ruid = v.euid = v.suid = uid;
    v.argv0 = std::move(argv0);
    table_[pid] = v;
  }

  Status Check(pid_t parent, uid_t user = kUser) {
    return CheckStartedBySshd(parent, user, [this](pid_t pid) -> Result<ProcessView> {
      auto it = table_.find(pid);
      if (it == table_.end()) return Err(NotFound("no process"));
      return it->second;
    });
  }

  void ExpectRefused(pid_t parent, const std::string& why) {
    const Status s = Check(parent);
    EXPECT_EQ(s.code(), Code::kPermissionDenied) << s.ToString();
    EXPECT_NE(s.message().find("not started by sshd for this session"), std::string::npos)
        << s.message();
    EXPECT_NE(s.message().find(why), std::string::npos) << s.message();
  }

  void SetUp() override {
    Add(1, 0, 0, "/sbin/init");
    Add(100, 1, 0, "/usr/sbin/sshd");           // the listener
    Add(200, 100, 0, "sshd: alice [priv]");     // the monitor
    Add(201, 200, kUser, "sshd: alice@pts/0");  // the session process
  }

  std::map<pid_t, ProcessView> table_;
};

TEST_F(StartedBySshdTest, TheSessionProcessOrTheLoginShellBelowIt) {
  // bash -c exec'd the recorder: sshd's session process is the parent.
  EXPECT_TRUE(Check(201).ok());
  // dash -c forked it: the login shell sits between.
  Add(202, 201, kUser, "sh");
  EXPECT_TRUE(Check(202).ok());
  // OpenSSH 9.8 and later: sshd-session.
  Add(300, 100, 0, "sshd-session: alice [priv]");
  Add(301, 300, kUser, "sshd-session: alice@notty");
  EXPECT_TRUE(Check(301).ok());
  // Root's own session.
  Add(401, 200, 0, "sshd: root@pts/1");
  EXPECT_TRUE(Check(401, 0).ok());
}

TEST_F(StartedBySshdTest, RunByHandOrNestedIsRefused) {
  // From the user's shell in a recorded session: shell -> recorder (gate-rec).
  Add(210, 201, 999, "/usr/libexec/gate/gate-record");
  Add(211, 210, kUser, "-sh");
  ExpectRefused(211, "no sshd session process above it");
  Add(212, 211, kUser, "bash");
  ExpectRefused(212, "no sshd session process above it");
  // Under su: root's su above the user's shell.
  Add(500, 1, 0, "su alice");
  Add(501, 500, kUser, "bash");
  ExpectRefused(501, "no sshd session process above it");
  // A user process renamed to look like sshd, under su.
  Add(502, 500, kUser, "sshd: alice [priv]");
  ExpectRefused(502, "started from within sshd's session setup");
  // Run by root (or another user) for this user.
  ExpectRefused(100, "not the user's");
  ExpectRefused(999, "cannot read its parent process");
}

TEST_F(StartedBySshdTest, SshRcIsNotTheLoginShell) {
  // ~/.ssh/rc runs under the session's child before it execs the shell;
  // that child is still sshd (its name says so).
  Add(220, 201, kUser, "sshd: alice@pts/0");
  Add(221, 220, kUser, "sh");
  ExpectRefused(220, "started from within sshd's session setup");
  ExpectRefused(221, "no sshd session process above it");
}

}  // namespace
}  // namespace gate::recorder
