#include "pam_module/auth_info.h"

#include <gtest/gtest.h>

#include "gate/certificate.h"
#include "gate/ed25519.h"

namespace gate::pam {
namespace {

std::string CertLine(const std::string& key_id, ssh::CertType type = ssh::CertType::kUser) {
  auto ca = ssh::Ed25519PrivateKey::Generate();
  auto user = ssh::Ed25519PrivateKey::Generate();
  if (!ca || !user) std::abort();
  ssh::CertificateSpec spec;
  spec.type = type;
  spec.public_key = user->public_key();
  spec.serial = 7;
  spec.key_id = key_id;
  spec.principals = {"root"};
  spec.valid_after = 0;
  spec.valid_before = ~std::uint64_t{0};
  ssh::LocalSigner signer(std::move(*ca));
  auto cert = ssh::SignCertificate(spec, signer);
  if (!cert) std::abort();
  return ssh::CertificateLine(*cert);
}

TEST(AuthInfoTest, KeyIdOfTheCertificate) {
  auto id = CertificateKeyId("publickey " + CertLine("alice") + "\n");
  ASSERT_TRUE(id.has_value()) << id.error().message();
  ASSERT_TRUE(id->has_value());
  EXPECT_EQ(**id, "alice");
}

TEST(AuthInfoTest, NoCertificateMeansNoKeyId) {
  for (const char* info :
       {"", "password\n", "keyboard-interactive\n",
        "publickey ssh-ed25519 "
        "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"}) {
    auto id = CertificateKeyId(info);
    ASSERT_TRUE(id.has_value()) << info;
    EXPECT_FALSE(id->has_value()) << info;
  }
}

TEST(AuthInfoTest, SeveralLinesSameIdentity) {
  auto id = CertificateKeyId("publickey " + CertLine("bob") + "\npublickey " + CertLine("bob") +
                             "\nkeyboard-interactive\n");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->value_or(""), "bob");
}

TEST(AuthInfoTest, FailsClosed) {
  // Two identities.
  EXPECT_FALSE(
      CertificateKeyId("publickey " + CertLine("a") + "\npublickey " + CertLine("b") + "\n"));
  // A certificate cut short. (Its signature is sshd's to check: sshd verified
  // it before exposing it, and a valid signature would prove nothing more,
  // as certificates are public; see CertificateKeyId.)
  std::string line = CertLine("alice");
  line.resize(line.size() - 40);
  EXPECT_FALSE(CertificateKeyId("publickey " + line + "\n"));
  // A certificate type we cannot check.
  EXPECT_FALSE(CertificateKeyId("publickey ssh-rsa-cert-v01@openssh.com AAAA\n"));
  // A host certificate.
  EXPECT_FALSE(CertificateKeyId("publickey " + CertLine("h", ssh::CertType::kHost) + "\n"));
  // Absurd size.
  EXPECT_FALSE(CertificateKeyId(std::string(70000, 'x')));
}

}  // namespace
}  // namespace gate::pam
