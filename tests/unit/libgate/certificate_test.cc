#include "gate/certificate.h"

#include <gtest/gtest.h>

#include <string>
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

Ed25519PrivateKey MustGenerate() {
  auto key = Ed25519PrivateKey::Generate();
  if (!key) std::abort();
  return std::move(*key);
}

// 2024-01-01T00:00:00Z and one hour later.
constexpr std::uint64_t kValidAfter = 1704067200;
constexpr std::uint64_t kValidBefore = kValidAfter + 3600;

CertificateSpec MakeSpec(const Ed25519PublicKey& user_key) {
  CertificateSpec spec;
  spec.type = CertType::kUser;
  spec.public_key = user_key;
  spec.serial = 1234567890123ULL;
  spec.key_id = "alice";
  spec.principals = {"alice"};
  spec.valid_after = kValidAfter;
  spec.valid_before = kValidBefore;
  spec.extensions = {{std::string(kPermitPty), ""},
                     {std::string(kPermitPortForwarding), ""},
                     {std::string(kPermitAgentForwarding), ""}};
  return spec;
}

void ExpectSameSpec(const CertificateSpec& a, const CertificateSpec& b) {
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.public_key, b.public_key);
  EXPECT_EQ(a.serial, b.serial);
  EXPECT_EQ(a.key_id, b.key_id);
  EXPECT_EQ(a.principals, b.principals);
  EXPECT_EQ(a.valid_after, b.valid_after);
  EXPECT_EQ(a.valid_before, b.valid_before);
  EXPECT_EQ(a.critical_options, b.critical_options);
  EXPECT_EQ(a.extensions, b.extensions);
}

class CertificateTest : public ::testing::Test {
 protected:
  CertificateTest() : ca_(MustGenerate()), user_(MustGenerate()) {}

  Certificate MustSign(const CertificateSpec& spec) {
    auto cert = SignCertificate(spec, ca_);
    if (!cert) {
      ADD_FAILURE() << cert.error().ToString();
      return {};
    }
    return std::move(*cert);
  }

  LocalSigner ca_;
  Ed25519PrivateKey user_;
};

// Builds a certificate field by field, so tests can produce blobs that
// SignCertificate would refuse to make but that carry a valid signature.
struct RawCert {
  std::string type{kEd25519CertType};
  std::string nonce = std::string(32, 'n');
  std::string pk;
  std::uint64_t serial = 1;
  std::uint32_t cert_type = 1;
  std::string key_id = "id";
  std::string principals;  // already encoded
  std::uint64_t valid_after = kValidAfter;
  std::uint64_t valid_before = kValidBefore;
  std::string critical_options;  // already encoded
  std::string extensions;        // already encoded
  std::string reserved;
  std::string sig_type{kEd25519KeyType};

  std::string Sign(const Ed25519PrivateKey& ca) const {
    Writer w;
    w.PutString(type);
    w.PutString(nonce);
    w.PutString(pk);
    w.PutU64(serial);
    w.PutU32(cert_type);
    w.PutString(key_id);
    w.PutString(principals);
    w.PutU64(valid_after);
    w.PutU64(valid_before);
    w.PutString(critical_options);
    w.PutString(extensions);
    w.PutString(reserved);
    w.PutString(ca.public_key().Blob());
    auto sig = ca.Sign(w.data());
    if (!sig) std::abort();
    Writer s;
    s.PutString(sig_type);
    s.PutString(*sig);
    w.PutString(s.data());
    return w.Take();
  }
};

std::string Strings(const std::vector<std::string>& items) {
  Writer w;
  for (const auto& i : items) w.PutString(i);
  return w.Take();
}

// name/data pairs; data is written verbatim (already string-wrapped or empty).
std::string Options(const std::vector<std::pair<std::string, std::string>>& items) {
  Writer w;
  for (const auto& [name, data] : items) {
    w.PutString(name);
    w.PutString(data);
  }
  return w.Take();
}

std::string Wrapped(std::string_view value) {
  Writer w;
  w.PutString(value);
  return w.Take();
}

TEST_F(CertificateTest, SignParseRoundTrip) {
  CertificateSpec spec = MakeSpec(user_.public_key());
  spec.principals = {"alice", "root", "deploy"};
  spec.critical_options = {{"force-command", "/usr/bin/true"}, {"source-address", "10.0.0.0/8"}};
  spec.extensions["permit-X11-forwarding"] = "";
  spec.extensions["custom@gate"] = "some value";
  Certificate cert = MustSign(spec);
  EXPECT_EQ(cert.nonce.size(), 32u);
  EXPECT_EQ(cert.signature_key, ca_.public_key());

  auto parsed = ParseCertificate(cert.blob);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  ExpectSameSpec(parsed->spec, spec);
  EXPECT_EQ(parsed->nonce, cert.nonce);
  EXPECT_EQ(parsed->signature_key, ca_.public_key());
  EXPECT_EQ(parsed->blob, cert.blob);
}

TEST_F(CertificateTest, HostCertificateRoundTrip) {
  CertificateSpec spec = MakeSpec(user_.public_key());
  spec.type = CertType::kHost;
  spec.key_id = "4f0c3c4e-6d1a-4e0e-9d57-3c2b9a3f2a10";
  spec.principals = {"node1.example.com"};
  spec.extensions.clear();
  auto parsed = ParseCertificate(MustSign(spec).blob);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  ExpectSameSpec(parsed->spec, spec);
}

TEST_F(CertificateTest, NoncesDiffer) {
  const CertificateSpec spec = MakeSpec(user_.public_key());
  EXPECT_NE(MustSign(spec).nonce, MustSign(spec).nonce);
}

TEST_F(CertificateTest, LineRoundTrip) {
  Certificate cert = MustSign(MakeSpec(user_.public_key()));
  const std::string line = CertificateLine(cert, "alice@gate");
  EXPECT_EQ(line.rfind("ssh-ed25519-cert-v01@openssh.com AAAA", 0), 0u);
  EXPECT_EQ(line.substr(line.size() - 11), " alice@gate");
  for (const std::string& l : {line, CertificateLine(cert), "  " + line + "\n"}) {
    auto parsed = ParseCertificateLine(l);
    ASSERT_TRUE(parsed) << parsed.error().ToString();
    EXPECT_EQ(parsed->blob, cert.blob);
  }
  EXPECT_FALSE(ParseCertificateLine(""));
  EXPECT_FALSE(ParseCertificateLine("ssh-ed25519 " + Base64Encode(cert.blob)));
  EXPECT_FALSE(ParseCertificateLine("ssh-ed25519-cert-v01@openssh.com !!!!"));
}

TEST_F(CertificateTest, SignRefusesBadSpecs) {
  struct Case {
    const char* name;
    void (*mutate)(CertificateSpec&);
  };
  const Case cases[] = {
      {"no public key", [](CertificateSpec& s) { s.public_key = Ed25519PublicKey(); }},
      {"after == before", [](CertificateSpec& s) { s.valid_before = s.valid_after; }},
      {"after > before", [](CertificateSpec& s) { s.valid_after = s.valid_before + 1; }},
      {"empty key id", [](CertificateSpec& s) { s.key_id.clear(); }},
      {"NUL in key id", [](CertificateSpec& s) { s.key_id = std::string("a\0b", 3); }},
      {"257 principals", [](CertificateSpec& s) { s.principals.assign(257, "p"); }},
      {"empty principal", [](CertificateSpec& s) { s.principals.push_back(""); }},
      {"NUL in principal",
       [](CertificateSpec& s) { s.principals.push_back(std::string("ro\0ot", 5)); }},
      {"empty extension name", [](CertificateSpec& s) { s.extensions[""] = ""; }},
      {"NUL in extension name",
       [](CertificateSpec& s) { s.extensions[std::string("a\0b", 3)] = ""; }},
      {"empty option name", [](CertificateSpec& s) { s.critical_options[""] = "x"; }},
      {"bad type", [](CertificateSpec& s) { s.type = static_cast<CertType>(3); }},
      {"long key id", [](CertificateSpec& s) { s.key_id.assign(1025, 'k'); }},
      {"long principal",
       [](CertificateSpec& s) { s.principals.assign(1, std::string(1025, 'p')); }},
      {"huge option value",
       [](CertificateSpec& s) { s.critical_options["force-command"].assign(70000, 'x'); }},
  };
  for (const Case& c : cases) {
    CertificateSpec spec = MakeSpec(user_.public_key());
    c.mutate(spec);
    auto cert = SignCertificate(spec, ca_);
    ASSERT_FALSE(cert) << c.name;
    EXPECT_EQ(cert.error().code(), Code::kInvalidArgument) << c.name;
  }
  CertificateSpec max = MakeSpec(user_.public_key());
  max.principals.assign(256, "p");
  EXPECT_TRUE(SignCertificate(max, ca_));
}

class FailingSigner : public Signer {
 public:
  explicit FailingSigner(Ed25519PublicKey pub, Result<std::string> result)
      : pub_(std::move(pub)), result_(std::move(result)) {}
  const Ed25519PublicKey& public_key() const override { return pub_; }
  Result<std::string> Sign(std::string_view) const override { return result_; }

 private:
  Ed25519PublicKey pub_;
  Result<std::string> result_;
};

TEST_F(CertificateTest, SignerFailuresPropagate) {
  const CertificateSpec spec = MakeSpec(user_.public_key());
  FailingSigner failing(ca_.public_key(), Err(Unavailable("signer down")));
  auto a = SignCertificate(spec, failing);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), Code::kUnavailable);
  FailingSigner short_sig(ca_.public_key(), std::string(63, 's'));
  auto b = SignCertificate(spec, short_sig);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), Code::kInternal);
}

TEST_F(CertificateTest, EveryTruncationFails) {
  const std::string blob = MustSign(MakeSpec(user_.public_key())).blob;
  for (std::size_t len = 0; len < blob.size(); ++len) {
    auto r = ParseCertificate(std::string_view(blob).substr(0, len));
    EXPECT_FALSE(r) << "truncated to " << len;
  }
}

TEST_F(CertificateTest, TrailingDataFails) {
  const std::string blob = MustSign(MakeSpec(user_.public_key())).blob;
  auto r = ParseCertificate(blob + std::string(1, '\0'));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("trailing"), std::string::npos);
}

TEST_F(CertificateTest, EverySingleByteChangeFails) {
  // Any change lands in the signed part (signature fails), in a length or
  // type field (structure fails), in the CA key (verification under another
  // key fails) or in the signature itself.
  const std::string blob = MustSign(MakeSpec(user_.public_key())).blob;
  for (std::size_t i = 0; i < blob.size(); ++i) {
    std::string bad = blob;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    EXPECT_FALSE(ParseCertificate(bad)) << "changed byte " << i;
  }
}

TEST_F(CertificateTest, TamperedSignatureByteFails) {
  std::string blob = MustSign(MakeSpec(user_.public_key())).blob;
  blob[blob.size() - 5] = static_cast<char>(blob[blob.size() - 5] ^ 0x01);
  auto r = ParseCertificate(blob);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("signature does not verify"), std::string::npos)
      << r.error().ToString();
}

TEST_F(CertificateTest, OversizedStringLengthRejected) {
  std::string blob = MustSign(MakeSpec(user_.public_key())).blob;
  // The nonce length follows the 4+32 byte type string.
  const std::size_t nonce_len = 4 + kEd25519CertType.size();
  blob.replace(nonce_len, 4, "\xff\xff\xff\xf0");
  auto r = ParseCertificate(blob);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << r.error().ToString();
}

TEST_F(CertificateTest, RawBuilderMatchesParser) {
  // Guards the builder the following tests rely on.
  RawCert raw;
  raw.pk = user_.public_key().raw();
  raw.principals = Strings({"a", "b"});
  raw.extensions = Options({{"permit-pty", ""}, {"x@y", Wrapped("v")}});
  auto r = ParseCertificate(raw.Sign(MustGenerate()));
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->spec.principals, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r->spec.extensions.at("x@y"), "v");
}

TEST_F(CertificateTest, ParseRejectsFormatViolations) {
  Ed25519PrivateKey signer = MustGenerate();
  struct Case {
    const char* name;
    const char* reason;  // expected in the error message
    void (*mutate)(RawCert&);
  };
  const Case cases[] = {
      {"unsorted extensions", "out of order",
       [](RawCert& c) {
         c.extensions = Options({{"permit-pty", ""}, {"permit-agent-forwarding", ""}});
       }},
      {"duplicate extension", "out of order or duplicated",
       [](RawCert& c) {
         c.extensions = Options({{"permit-pty", ""}, {"permit-pty", ""}});
       }},
      {"unsorted critical options", "out of order",
       [](RawCert& c) {
         c.critical_options =
             Options({{"source-address", Wrapped("10.0.0.1")}, {"force-command", Wrapped("x")}});
       }},
      {"duplicate critical option", "out of order or duplicated",
       [](RawCert& c) {
         c.critical_options =
             Options({{"force-command", Wrapped("a")}, {"force-command", Wrapped("b")}});
       }},
      {"empty extension name", "name is empty",
       [](RawCert& c) {
         c.extensions = Options({{"", ""}});
       }},
      {"option data not a string", "critical option value",
       [](RawCert& c) {
         c.critical_options = Options({{"force-command", "raw"}});
       }},
      {"option data with trailing bytes", "trailing data",
       [](RawCert& c) {
         c.critical_options = Options({{"force-command", Wrapped("a") + "zz"}});
       }},
      {"truncated option list", "truncated",
       [](RawCert& c) {
         c.extensions = Options({{"permit-pty", ""}}) + std::string(2, '\0');
       }},
      {"NUL in principal", "contains NUL",
       [](RawCert& c) { c.principals = Strings({std::string("ro\0ot", 5)}); }},
      {"NUL in key id", "contains NUL", [](RawCert& c) { c.key_id = std::string("a\0b", 3); }},
      {"257 principals", "more than 256 principals",
       [](RawCert& c) { c.principals = Strings(std::vector<std::string>(257, "p")); }},
      {"cert type 3", "neither user nor host", [](RawCert& c) { c.cert_type = 3; }},
      {"cert type 0", "neither user nor host", [](RawCert& c) { c.cert_type = 0; }},
      {"rsa cert type", "unsupported certificate type",
       [](RawCert& c) { c.type = "ssh-rsa-cert-v01@openssh.com"; }},
      {"short public key", "must be 32 bytes", [](RawCert& c) { c.pk.pop_back(); }},
      {"non-ed25519 signature", "is not ssh-ed25519",
       [](RawCert& c) { c.sig_type = "rsa-sha2-512"; }},
  };
  for (const Case& c : cases) {
    RawCert raw;
    raw.pk = user_.public_key().raw();
    raw.principals = Strings({"p"});
    c.mutate(raw);
    auto r = ParseCertificate(raw.Sign(signer));
    ASSERT_FALSE(r) << c.name;
    EXPECT_NE(r.error().message().find(c.reason), std::string::npos)
        << c.name << ": " << r.error().ToString();
  }
}

TEST_F(CertificateTest, SignatureByAnotherKeyFails) {
  // The embedded signature key says "ca", but another key signed the blob.
  std::string blob = MustSign(MakeSpec(user_.public_key())).blob;
  Ed25519PrivateKey other = MustGenerate();
  // Re-sign everything except the trailing signature with another key.
  const std::size_t sig_field = blob.size() - (4 + 4 + 11 + 4 + 64);
  auto sig = other.Sign(std::string_view(blob).substr(0, sig_field));
  ASSERT_TRUE(sig);
  blob.replace(blob.size() - 64, 64, *sig);
  EXPECT_FALSE(ParseCertificate(blob));
}

TEST(CheckValidityTest, Boundaries) {
  Certificate cert;
  cert.spec.valid_after = 100;
  cert.spec.valid_before = 200;
  EXPECT_EQ(CheckValidity(cert, 99).code(), Code::kFailedPrecondition);
  EXPECT_NE(CheckValidity(cert, 99).message().find("not yet valid"), std::string::npos);
  EXPECT_TRUE(CheckValidity(cert, 100).ok());
  EXPECT_TRUE(CheckValidity(cert, 199).ok());
  EXPECT_EQ(CheckValidity(cert, 200).code(), Code::kFailedPrecondition);
  EXPECT_NE(CheckValidity(cert, 200).message().find("expired"), std::string::npos);
}

// ---------------------------------------------------------------------------
// Interoperability with the stock OpenSSH tools.

TEST_F(CertificateTest, InteropSshKeygenListsOurCertificate) {
  if (!HaveSshKeygen()) GTEST_SKIP() << "no " << kSshKeygen;
  TempDir dir;
  CertificateSpec spec = MakeSpec(user_.public_key());
  spec.principals = {"alice", "ops"};
  spec.critical_options = {{"force-command", "/usr/bin/id"}};
  Certificate cert = MustSign(spec);
  const std::string path = dir.File("id_ed25519-cert.pub");
  WriteFile(path, CertificateLine(cert, "alice@gate") + "\n");

  // ssh-keygen verifies the CA signature while loading the certificate.
  auto res = RunCommand(std::string(kSshKeygen) + " -L -f " + ShellQuote(path));
  ASSERT_EQ(res.exit_code, 0) << res.output;
  const std::string& out = res.output;
  EXPECT_NE(out.find("ssh-ed25519-cert-v01@openssh.com user certificate"), std::string::npos)
      << out;
  EXPECT_NE(out.find("Key ID: \"alice\""), std::string::npos) << out;
  EXPECT_NE(out.find("Serial: 1234567890123"), std::string::npos) << out;
  EXPECT_NE(out.find("Signing CA: ED25519 " + ca_.public_key().Fingerprint()), std::string::npos)
      << out;
  EXPECT_NE(out.find(user_.public_key().Fingerprint()), std::string::npos) << out;
  EXPECT_NE(out.find("Valid: from 2024-01-01T"), std::string::npos) << out;
  EXPECT_NE(out.find("\n                alice\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\n                ops\n"), std::string::npos) << out;
  EXPECT_NE(out.find("force-command /usr/bin/id"), std::string::npos) << out;
  for (std::string_view ext : {kPermitPty, kPermitPortForwarding, kPermitAgentForwarding}) {
    EXPECT_NE(out.find("\n                " + std::string(ext) + "\n"), std::string::npos)
        << ext << "\n"
        << out;
  }
  EXPECT_EQ(out.find("permit-X11-forwarding"), std::string::npos) << out;
}

TEST_F(CertificateTest, InteropWeParseSshKeygenCertificate) {
  if (!HaveSshKeygen()) GTEST_SKIP() << "no " << kSshKeygen;
  TempDir dir;
  // The CA key is one of ours (ssh-keygen reads our private key format), the
  // user key one of ssh-keygen's.
  Ed25519PrivateKey ca = MustGenerate();
  const std::string ca_path = dir.File("ca");
  WriteFile(ca_path, EncodeOpenSshPrivateKey(ca, "ca").view(), kPrivateKeyMode);
  const std::string k = dir.File("k");
  auto gen = RunCommand(std::string(kSshKeygen) + " -q -t ed25519 -N '' -f " + ShellQuote(k));
  ASSERT_EQ(gen.exit_code, 0) << gen.output;

  auto sign = RunCommand(std::string(kSshKeygen) + " -q -s " + ShellQuote(ca_path) +
                         " -I 'bob id' -n bob,admin -z 77 -V 20240101:20240102" +
                         " -O clear -O permit-pty -O force-command=/bin/date" +
                         " -O source-address=192.0.2.0/24 -O extension:zz@gate=val " +
                         ShellQuote(k + ".pub"));
  ASSERT_EQ(sign.exit_code, 0) << sign.output;

  auto cert = ParseCertificateLine(ReadFile(k + "-cert.pub"));
  ASSERT_TRUE(cert) << cert.error().ToString();
  auto user_pub = Ed25519PublicKey::FromAuthorizedKey(ReadFile(k + ".pub"));
  ASSERT_TRUE(user_pub);
  EXPECT_EQ(cert->spec.type, CertType::kUser);
  EXPECT_EQ(cert->spec.public_key, *user_pub);
  EXPECT_EQ(cert->signature_key, ca.public_key());
  EXPECT_EQ(cert->spec.key_id, "bob id");
  EXPECT_EQ(cert->spec.serial, 77u);
  EXPECT_EQ(cert->spec.principals, (std::vector<std::string>{"bob", "admin"}));
  EXPECT_LT(cert->spec.valid_after, cert->spec.valid_before);
  EXPECT_EQ(cert->spec.critical_options,
            (std::map<std::string, std::string>{{"force-command", "/bin/date"},
                                                {"source-address", "192.0.2.0/24"}}));
  EXPECT_EQ(cert->spec.extensions,
            (std::map<std::string, std::string>{{"permit-pty", ""}, {"zz@gate", "val"}}));
}

TEST_F(CertificateTest, InteropSshKeygenHostCertificate) {
  if (!HaveSshKeygen()) GTEST_SKIP() << "no " << kSshKeygen;
  TempDir dir;
  Ed25519PrivateKey ca = MustGenerate();
  const std::string ca_path = dir.File("ca");
  WriteFile(ca_path, EncodeOpenSshPrivateKey(ca, "").view(), kPrivateKeyMode);
  const std::string k = dir.File("host");
  WriteFile(k + ".pub", user_.public_key().AuthorizedKey() + "\n");
  auto sign = RunCommand(std::string(kSshKeygen) + " -q -h -s " + ShellQuote(ca_path) +
                         " -I host-uuid -n node1.example.com " + ShellQuote(k + ".pub"));
  ASSERT_EQ(sign.exit_code, 0) << sign.output;
  auto cert = ParseCertificateLine(ReadFile(k + "-cert.pub"));
  ASSERT_TRUE(cert) << cert.error().ToString();
  EXPECT_EQ(cert->spec.type, CertType::kHost);
  EXPECT_EQ(cert->spec.public_key, user_.public_key());
  EXPECT_EQ(cert->spec.principals, std::vector<std::string>{"node1.example.com"});
  EXPECT_TRUE(cert->spec.extensions.empty());
}

}  // namespace
}  // namespace gate::ssh

namespace gate::ssh {
namespace {

TEST(CertificateVerifiedBySshdTest, SkipsOnlyTheSignatureCheck) {
  auto ca = Ed25519PrivateKey::Generate();
  auto key = Ed25519PrivateKey::Generate();
  ASSERT_TRUE(ca.has_value() && key.has_value());
  CertificateSpec spec;
  spec.public_key = key->public_key();
  spec.serial = 7;
  spec.key_id = "alice";
  spec.principals = {"alice"};
  spec.valid_after = 1;
  spec.valid_before = 2;
  LocalSigner signer(std::move(*ca));
  auto cert = SignCertificate(spec, signer);
  ASSERT_TRUE(cert.has_value());
  std::string bad_sig = cert->blob;
  bad_sig.back() = static_cast<char>(bad_sig.back() ^ 1);
  EXPECT_FALSE(ParseCertificate(bad_sig).has_value());
  auto parsed = ParseCertificateVerifiedBySshd(bad_sig);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->spec.key_id, "alice");
  EXPECT_EQ(parsed->signature_key, signer.public_key());
  // Structure is still checked in full.
  EXPECT_FALSE(ParseCertificateVerifiedBySshd(cert->blob + "x").has_value());
  EXPECT_FALSE(ParseCertificateVerifiedBySshd(cert->blob.substr(0, 40)).has_value());
}

}  // namespace
}  // namespace gate::ssh
