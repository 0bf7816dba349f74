#include "sshd-hooks/node/session_reaper.h"

#include <gtest/gtest.h>

#include <string>

#include "gate/certificate.h"
#include "sshd-hooks/hooks_test_util.h"

namespace gate::node {
namespace {

constexpr std::int64_t kNow = 1764000000;

LiveSshSession Session(const std::string& user, std::uint64_t serial, const std::string& login,
                       bool recorded) {
  LiveSshSession s;
  s.user = user;
  s.serial = serial;
  s.login = login;
  s.recorded = recorded;
  s.session_id = recorded ? "6f1c3a2e-8d2a-4c61-9a57-0b6f3a2f9d10" : "";
  s.sshd_pid = 100;
  return s;
}

TEST(SessionReaperTest, OnlyTheCoveredUsersSessionsEndEvenUnderTheSameLogin) {
  policy::Snapshot snapshot = testing::DefaultSnapshot();
  snapshot.locks.push_back({"alice", 0, "incident"});
  // alice and bob share the OS login "postgres"; only alice is locked.
  const std::vector<LiveSshSession> live = {
      Session("alice", 1, "postgres", true), Session("bob", 2, "postgres", true),
      Session("alice", 3, "postgres", false), Session("bob", 4, "postgres", false)};
  const auto covered = SessionsToEnd(snapshot, live, kNow);
  ASSERT_EQ(covered.size(), 2u);
  for (const CoveredSession& c : covered) {
    EXPECT_EQ(c.session.user, "alice");
    EXPECT_EQ(c.reason.cause, policy::SessionEndReason::Cause::kLocked);
  }
  EXPECT_TRUE(covered[0].session.recorded);
  EXPECT_FALSE(covered[1].session.recorded);
}

TEST(SessionReaperTest, ARevocationEndsOnlyTheSessionsOfThatCertificate) {
  policy::Snapshot snapshot = testing::DefaultSnapshot();
  snapshot.revoked_serials = {3};
  const std::vector<LiveSshSession> live = {Session("alice", 1, "alice", false),
                                            Session("alice", 3, "alice", false),
                                            Session("alice", 3, "alice", true)};
  const auto covered = SessionsToEnd(snapshot, live, kNow);
  ASSERT_EQ(covered.size(), 2u);
  EXPECT_EQ(covered[0].session.serial, 3u);
  EXPECT_EQ(covered[1].session.serial, 3u);
  EXPECT_EQ(covered[0].reason.cause, policy::SessionEndReason::Cause::kRevoked);
}

TEST(SessionReaperTest, NothingCoveredEndsNothing) {
  const policy::Snapshot snapshot = testing::DefaultSnapshot();
  EXPECT_TRUE(SessionsToEnd(snapshot, {Session("alice", 1, "alice", true)}, kNow).empty());
  EXPECT_TRUE(SessionsToEnd(snapshot, {}, kNow).empty());
}

TEST(SessionReaperTest, AuthInfoPathComesFromTheExactVariable) {
  using namespace std::string_literals;
  EXPECT_EQ(AuthInfoPathFromEnviron("HOME=/root\0SSH_USER_AUTH=/tmp/sshauth.x1\0TERM=xterm\0"s),
            "/tmp/sshauth.x1");
  EXPECT_EQ(AuthInfoPathFromEnviron("SSH_USER_AUTH=/tmp/a"s), "/tmp/a");
  EXPECT_FALSE(AuthInfoPathFromEnviron("HOME=/root\0"s).has_value());
  EXPECT_FALSE(AuthInfoPathFromEnviron("XSSH_USER_AUTH=/tmp/a\0"s).has_value());
  EXPECT_FALSE(AuthInfoPathFromEnviron("SSH_USER_AUTH=relative\0"s).has_value());
  EXPECT_FALSE(AuthInfoPathFromEnviron("SSH_USER_AUTH=\0"s).has_value());
  EXPECT_FALSE(AuthInfoPathFromEnviron("").has_value());
}

std::string CertLine(const ssh::Signer& ca, const std::string& key_id, std::uint64_t serial) {
  ssh::CertificateSpec spec;
  spec.type = ssh::CertType::kUser;
  spec.public_key = testing::NewKey().public_key();
  spec.serial = serial;
  spec.key_id = key_id;
  spec.principals = {"alice"};
  spec.valid_after = kNow - 60;
  spec.valid_before = kNow + 3600;
  return ssh::CertificateLine(ssh::SignCertificate(spec, ca).value());
}

TEST(SessionReaperTest, SessionCertificateNamesTheOneGateCertificate) {
  const ssh::LocalSigner ca(testing::NewKey());
  const std::vector<ssh::Ed25519PublicKey> cas = {testing::NewKey().public_key(), ca.public_key()};
  auto name = SessionCertificate("publickey " + CertLine(ca, "alice", 77) + "\n", cas);
  ASSERT_TRUE(name.has_value()) << name.error().ToString();
  EXPECT_EQ(name->user, "alice");
  EXPECT_EQ(name->serial, 77u);
}

TEST(SessionReaperTest, SessionsGateDidNotAuthenticateHaveNoCertificate) {
  const ssh::LocalSigner ca(testing::NewKey());
  const std::vector<ssh::Ed25519PublicKey> cas = {ca.public_key()};
  EXPECT_FALSE(SessionCertificate("", cas).has_value());
  EXPECT_FALSE(SessionCertificate("password\n", cas).has_value());
  EXPECT_FALSE(
      SessionCertificate("publickey " + testing::NewKey().public_key().AuthorizedKey() + "\n", cas)
          .has_value());
  // Two certificates: which one sshd accepted for the session is unknown.
  EXPECT_FALSE(SessionCertificate("publickey " + CertLine(ca, "alice", 1) + "\npublickey " +
                                      CertLine(ca, "bob", 2) + "\n",
                                  cas)
                   .has_value());
  EXPECT_FALSE(
      SessionCertificate("publickey ssh-ed25519-cert-v01@openssh.com AAAA\n", cas).has_value());
  // Another CA's "alice" is not gate's alice.
  EXPECT_FALSE(
      SessionCertificate(
          "publickey " + CertLine(ssh::LocalSigner(testing::NewKey()), "alice", 1) + "\n", cas)
          .has_value());
  EXPECT_FALSE(SessionCertificate("publickey " + CertLine(ca, "alice", 1) + "\n", {}).has_value());
}

}  // namespace
}  // namespace gate::node
