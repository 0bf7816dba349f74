#include "gate/ed25519.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "gate/bytes.h"
#include "gate/ssh_wire.h"
#include "ssh_test_util.h"

namespace gate::ssh {
namespace {

using gate::testing::HaveSshKeygen;
using gate::testing::kPrivateKeyMode;
using gate::testing::kSshKeygen;
using gate::testing::ReadFile;
using gate::testing::RunCommand;
using gate::testing::ShellQuote;
using gate::testing::TempDir;
using gate::testing::WriteFile;

std::string Unhex(std::string_view hex) {
  auto r = HexDecode(hex);
  if (!r) ADD_FAILURE() << "bad hex in test";
  return r ? *r : std::string();
}

std::string SeedString(const SecretBytes& seed) {
  return std::string(reinterpret_cast<const char*>(seed.data()), seed.size());
}

Ed25519PrivateKey MustGenerate() {
  auto key = Ed25519PrivateKey::Generate();
  if (!key) std::abort();
  return std::move(*key);
}

// RFC 8032 section 7.1, TEST 1 (empty message).
constexpr std::string_view kRfcSeed =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr std::string_view kRfcPublic =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
constexpr std::string_view kRfcSignature =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
    "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

TEST(Ed25519Test, Rfc8032Vector) {
  auto key = Ed25519PrivateKey::FromSeed(Unhex(kRfcSeed));
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_EQ(HexEncode(key->public_key().raw()), kRfcPublic);
  auto sig = key->Sign("");
  ASSERT_TRUE(sig);
  EXPECT_EQ(HexEncode(*sig), kRfcSignature);
  EXPECT_TRUE(key->public_key().Verify("", *sig));
  EXPECT_EQ(HexEncode(SeedString(key->Seed())), kRfcSeed);
}

// Sign reuses OpenSSL contexts across calls and threads; results must not
// depend on which context a call happens to get.
TEST(Ed25519Test, RepeatedAndConcurrentSigningIsCorrect) {
  auto key = Ed25519PrivateKey::FromSeed(Unhex(kRfcSeed));
  ASSERT_TRUE(key);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string message = std::to_string(t) + ":" + std::to_string(i);
        auto sig = key->Sign(message);
        if (!sig || !key->public_key().Verify(message, *sig)) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
  auto sig = key->Sign("");
  ASSERT_TRUE(sig);
  EXPECT_EQ(HexEncode(*sig), kRfcSignature);
}

TEST(Ed25519Test, FromSeedRejectsWrongLength) {
  EXPECT_EQ(Ed25519PrivateKey::FromSeed(std::string(31, 'a')).error().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(Ed25519PrivateKey::FromSeed(std::string(33, 'a')).error().code(),
            Code::kInvalidArgument);
}

TEST(Ed25519Test, GenerateSignVerify) {
  Ed25519PrivateKey a = MustGenerate();
  Ed25519PrivateKey b = MustGenerate();
  EXPECT_NE(a.public_key(), b.public_key());
  auto sig = a.Sign("message");
  ASSERT_TRUE(sig);
  ASSERT_EQ(sig->size(), 64u);
  EXPECT_TRUE(a.public_key().Verify("message", *sig));
  EXPECT_FALSE(a.public_key().Verify("messagf", *sig));
  EXPECT_FALSE(b.public_key().Verify("message", *sig));
  std::string bad = *sig;
  bad[10] = static_cast<char>(bad[10] ^ 1);
  EXPECT_FALSE(a.public_key().Verify("message", bad));
  EXPECT_FALSE(a.public_key().Verify("message", sig->substr(0, 63)));
  EXPECT_FALSE(a.public_key().Verify("message", *sig + "x"));
  EXPECT_FALSE(Ed25519PublicKey().Verify("message", *sig));
}

TEST(Ed25519Test, SeedRoundTrip) {
  Ed25519PrivateKey a = MustGenerate();
  auto b = Ed25519PrivateKey::FromSeed(SeedString(a.Seed()));
  ASSERT_TRUE(b);
  EXPECT_EQ(a.public_key(), b->public_key());
}

TEST(Ed25519Test, MovedFromKeyRefusesToSign) {
  Ed25519PrivateKey a = MustGenerate();
  Ed25519PrivateKey b = std::move(a);
  EXPECT_TRUE(b.Sign("x"));
  EXPECT_FALSE(a.Sign("x"));  // NOLINT(bugprone-use-after-move): the point of the test
  EXPECT_TRUE(a.Seed().empty());
}

TEST(Ed25519PublicKeyTest, FromRawChecksLength) {
  EXPECT_TRUE(Ed25519PublicKey::FromRaw(std::string(32, 'a')));
  EXPECT_FALSE(Ed25519PublicKey::FromRaw(std::string(31, 'a')));
  EXPECT_FALSE(Ed25519PublicKey::FromRaw(""));
}

TEST(Ed25519PublicKeyTest, BlobRoundTripAndRejections) {
  Ed25519PrivateKey key = MustGenerate();
  const std::string blob = key.public_key().Blob();
  EXPECT_EQ(blob.size(), 4 + 11 + 4 + 32u);
  auto parsed = Ed25519PublicKey::FromBlob(blob);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, key.public_key());

  EXPECT_FALSE(Ed25519PublicKey::FromBlob(blob + "x"));
  for (std::size_t len = 0; len < blob.size(); ++len) {
    EXPECT_FALSE(Ed25519PublicKey::FromBlob(blob.substr(0, len))) << len;
  }
  Writer rsa;
  rsa.PutString("ssh-rsa");
  rsa.PutString(key.public_key().raw());
  EXPECT_FALSE(Ed25519PublicKey::FromBlob(rsa.data()));
  Writer short_key;
  short_key.PutString("ssh-ed25519");
  short_key.PutString(std::string(31, 'a'));
  EXPECT_FALSE(Ed25519PublicKey::FromBlob(short_key.data()));
}

TEST(Ed25519PublicKeyTest, AuthorizedKeyRoundTrip) {
  Ed25519PrivateKey key = MustGenerate();
  const std::string line = key.public_key().AuthorizedKey("alice@example");
  EXPECT_EQ(line.rfind("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI", 0), 0u) << line;
  EXPECT_EQ(line.substr(line.size() - 14), " alice@example");
  EXPECT_EQ(key.public_key().AuthorizedKey().find(' ', 12), std::string::npos);

  for (const std::string& variant : {line, "  " + line + "\n", key.public_key().AuthorizedKey(),
                                     key.public_key().AuthorizedKey("a comment with spaces")}) {
    auto parsed = Ed25519PublicKey::FromAuthorizedKey(variant);
    ASSERT_TRUE(parsed) << variant << ": " << parsed.error().ToString();
    EXPECT_EQ(*parsed, key.public_key());
  }
  EXPECT_FALSE(Ed25519PublicKey::FromAuthorizedKey(""));
  EXPECT_FALSE(Ed25519PublicKey::FromAuthorizedKey("ssh-rsa AAAA"));
  EXPECT_FALSE(Ed25519PublicKey::FromAuthorizedKey("ssh-ed25519 not-base64!"));
  // The line's type must match the blob's.
  std::string swapped = line;
  swapped.replace(0, 11, "ssh-dss");
  EXPECT_FALSE(Ed25519PublicKey::FromAuthorizedKey(swapped));
}

// Reads an armored key, returns the decoded binary, and the reverse; used to
// corrupt the inside of a key file while keeping the armor valid.
std::string Unarmor(std::string_view pem) {
  std::string b64;
  for (std::string_view line = pem; !line.empty();) {
    const std::size_t nl = line.find('\n');
    std::string_view l = line.substr(0, nl);
    if (l.rfind("-----", 0) != 0) b64 += l;
    line.remove_prefix(nl == std::string_view::npos ? line.size() : nl + 1);
  }
  auto bin = Base64Decode(b64);
  if (!bin) ADD_FAILURE() << bin.error().ToString();
  return bin ? *bin : std::string();
}

std::string Armor(std::string_view bin) {
  return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + Base64Encode(bin) +
         "\n-----END OPENSSH PRIVATE KEY-----\n";
}

TEST(OpenSshKeyTest, EncodeDecodeRoundTrip) {
  Ed25519PrivateKey key = MustGenerate();
  SecretString pem = EncodeOpenSshPrivateKey(key, "gate test key");
  EXPECT_EQ(pem.view().rfind("-----BEGIN OPENSSH PRIVATE KEY-----\n", 0), 0u);
  EXPECT_EQ(pem.view().substr(pem.size() - 34), "-----END OPENSSH PRIVATE KEY-----\n");
  // ssh-keygen wraps at 70 columns; so do we.
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < pem.size(); ++i) {
    if (pem[i] == '\n') {
      EXPECT_LE(i - line_start, 70u);
      line_start = i + 1;
    }
  }
  auto decoded = DecodeOpenSshPrivateKey(pem.view());
  ASSERT_TRUE(decoded) << decoded.error().ToString();
  EXPECT_EQ(decoded->public_key(), key.public_key());
  EXPECT_EQ(SeedString(decoded->Seed()), SeedString(key.Seed()));

  // Binary layout: magic, "none", "none", "", 1 key, and a private section
  // padded to 8 bytes.
  const std::string bin = Unarmor(pem.view());
  EXPECT_EQ(bin.substr(0, 15), std::string("openssh-key-v1\0", 15));
  Reader r(std::string_view(bin).substr(15));
  EXPECT_EQ(*r.GetString(), "none");
  EXPECT_EQ(*r.GetString(), "none");
  EXPECT_EQ(*r.GetString(), "");
  EXPECT_EQ(*r.GetU32(), 1u);
  EXPECT_EQ(*r.GetString(), key.public_key().Blob());
  auto section = r.GetString();
  ASSERT_TRUE(section);
  EXPECT_EQ(section->size() % 8, 0u);
  EXPECT_TRUE(r.empty());
}

TEST(OpenSshKeyTest, ToleratesSurroundingWhitespaceAndCrLf) {
  Ed25519PrivateKey key = MustGenerate();
  std::string pem(EncodeOpenSshPrivateKey(key, "").view());
  std::string crlf;
  for (char c : pem) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  auto a = DecodeOpenSshPrivateKey("\n\n" + crlf + "\n");
  ASSERT_TRUE(a) << a.error().ToString();
  EXPECT_EQ(a->public_key(), key.public_key());
}

TEST(OpenSshKeyTest, RejectsCorruptFiles) {
  Ed25519PrivateKey key = MustGenerate();
  // No comment: its text is the one part of the file nothing can check.
  const std::string bin = Unarmor(EncodeOpenSshPrivateKey(key, "").view());
  ASSERT_FALSE(bin.empty());

  EXPECT_FALSE(DecodeOpenSshPrivateKey(""));
  EXPECT_FALSE(DecodeOpenSshPrivateKey("-----BEGIN OPENSSH PRIVATE KEY-----\n"));
  EXPECT_FALSE(DecodeOpenSshPrivateKey(Armor(bin + "x")));  // trailing data
  for (std::size_t len = 0; len < bin.size(); ++len) {
    EXPECT_FALSE(DecodeOpenSshPrivateKey(Armor(bin.substr(0, len)))) << len;
  }
  // Every single-byte change is detected: structure, check bytes, padding,
  // or the public/private consistency checks.
  for (std::size_t i = 0; i < bin.size(); ++i) {
    std::string bad = bin;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_FALSE(DecodeOpenSshPrivateKey(Armor(bad))) << "flipped byte " << i;
  }
}

TEST(OpenSshKeyTest, RejectsMismatchedCheckBytes) {
  Ed25519PrivateKey key = MustGenerate();
  std::string bin = Unarmor(EncodeOpenSshPrivateKey(key, "").view());
  // The private section begins after magic(15) + "none"(8) + "none"(8) +
  // ""(4) + count(4) + pubkey blob(4+51) + section length(4).
  const std::size_t check2 = 15 + 8 + 8 + 4 + 4 + 4 + 51 + 4 + 4;
  bin[check2] = static_cast<char>(bin[check2] ^ 0x80);
  auto r = DecodeOpenSshPrivateKey(Armor(bin));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("check bytes"), std::string::npos) << r.error().ToString();
}

TEST(OpenSshKeyTest, InteropSshKeygenReadsOurKey) {
  if (!HaveSshKeygen()) GTEST_SKIP() << "no " << kSshKeygen;
  TempDir dir;
  Ed25519PrivateKey key = MustGenerate();
  const std::string path = dir.File("id_ed25519");
  WriteFile(path, EncodeOpenSshPrivateKey(key, "gate@test").view(), kPrivateKeyMode);
  auto res = RunCommand(std::string(kSshKeygen) + " -y -f " + ShellQuote(path));
  ASSERT_EQ(res.exit_code, 0) << res.output;
  auto pub = Ed25519PublicKey::FromAuthorizedKey(res.output);
  ASSERT_TRUE(pub) << res.output;
  EXPECT_EQ(*pub, key.public_key());

  // ssh-keygen -l prints the same fingerprint we compute.
  WriteFile(path + ".pub", key.public_key().AuthorizedKey("gate@test") + "\n");
  auto fp = RunCommand(std::string(kSshKeygen) + " -l -f " + ShellQuote(path + ".pub"));
  ASSERT_EQ(fp.exit_code, 0) << fp.output;
  EXPECT_NE(fp.output.find(key.public_key().Fingerprint()), std::string::npos)
      << fp.output << " vs " << key.public_key().Fingerprint();
}

TEST(OpenSshKeyTest, InteropWeReadSshKeygenKey) {
  if (!HaveSshKeygen()) GTEST_SKIP() << "no " << kSshKeygen;
  TempDir dir;
  const std::string path = dir.File("k");
  auto res = RunCommand(std::string(kSshKeygen) + " -q -t ed25519 -N '' -C 'from ssh-keygen' -f " +
                        ShellQuote(path));
  ASSERT_EQ(res.exit_code, 0) << res.output;
  auto key = DecodeOpenSshPrivateKey(ReadFile(path));
  ASSERT_TRUE(key) << key.error().ToString();
  auto pub = Ed25519PublicKey::FromAuthorizedKey(ReadFile(path + ".pub"));
  ASSERT_TRUE(pub);
  EXPECT_EQ(key->public_key(), *pub);
  auto sig = key->Sign("data");
  ASSERT_TRUE(sig);
  EXPECT_TRUE(pub->Verify("data", *sig));
}

TEST(OpenSshKeyTest, RefusesEncryptedKey) {
  if (!HaveSshKeygen()) GTEST_SKIP() << "no " << kSshKeygen;
  TempDir dir;
  const std::string path = dir.File("k");
  auto res = RunCommand(std::string(kSshKeygen) + " -q -t ed25519 -N 'secret pass' -f " +
                        ShellQuote(path));
  ASSERT_EQ(res.exit_code, 0) << res.output;
  auto key = DecodeOpenSshPrivateKey(ReadFile(path));
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().message().find("encrypted"), std::string::npos) << key.error().ToString();
}

TEST(OpenSshKeyTest, RefusesOtherKeyTypes) {
  if (!HaveSshKeygen()) GTEST_SKIP() << "no " << kSshKeygen;
  TempDir dir;
  const std::string path = dir.File("k");
  auto res = RunCommand(std::string(kSshKeygen) + " -q -t ecdsa -N '' -f " + ShellQuote(path));
  ASSERT_EQ(res.exit_code, 0) << res.output;
  EXPECT_FALSE(DecodeOpenSshPrivateKey(ReadFile(path)));
}

}  // namespace
}  // namespace gate::ssh
