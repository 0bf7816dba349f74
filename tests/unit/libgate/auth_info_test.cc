#include "gate/auth_info.h"

#include <gtest/gtest.h>

namespace gate::ssh {
namespace {

TEST(AuthInfoCertificatesTest, FindsCertificateLinesWithTheirNumbers) {
  const auto found = AuthInfoCertificates(
      "password\n"
      "publickey ssh-ed25519 AAAAplain\n"
      "publickey ssh-ed25519-cert-v01@openssh.com AAAAcert\n"
      "keyboard-interactive\n"
      "publickey ecdsa-sha2-nistp256-cert-v01@openssh.com BBBB comment");
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].line, 3u);
  EXPECT_EQ(found[0].key, "ssh-ed25519-cert-v01@openssh.com AAAAcert");
  EXPECT_EQ(found[1].line, 5u);  // no final newline, a comment kept
  EXPECT_EQ(found[1].key, "ecdsa-sha2-nistp256-cert-v01@openssh.com BBBB comment");
}

TEST(AuthInfoCertificatesTest, SkipsEverythingElse) {
  for (const char* text :
       {"", "\n\n", "publickey", "publickey ", "publickeyssh-ed25519-cert-v01@openssh.com X",
        "hostbased ssh-ed25519-cert-v01@openssh.com X", "publickey -cert-v01@openssh.co X",
        "publickey ssh-ed25519-cert-v01@openssh.comX Y"}) {
    EXPECT_TRUE(AuthInfoCertificates(text).empty()) << text;
  }
}

}  // namespace
}  // namespace gate::ssh
