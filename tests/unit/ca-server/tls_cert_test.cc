#include "ca-server/signer/tls_cert.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gate/bytes.h"
#include "gate/cptr.h"

namespace gate::ca {
namespace {

namespace fs = std::filesystem;
using X509Cert = CPtr<X509, X509_free>;
using EvpPkey = CPtr<EVP_PKEY, EVP_PKEY_free>;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

X509Cert ReadCert(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return nullptr;
  X509Cert cert(PEM_read_X509(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  return cert;
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

class TlsCertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "gate-tls-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    cert_ = dir_ + "/tls.crt";
    key_ = dir_ + "/tls.key";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string dir_, cert_, key_;
};

TEST_F(TlsCertTest, CreatesP256KeyAndSelfSignedCert) {
  ASSERT_TRUE(
      EnsureSelfSignedCert(cert_, key_, {"ca.example.com", "gate"}, {"127.0.0.1", "::1"}).ok());
  EXPECT_EQ(ModeOf(key_), 0600u);
  EXPECT_EQ(ModeOf(cert_), 0644u);

  X509Cert cert = ReadCert(cert_);
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_get_version(cert.get()), X509_VERSION_3);

  // Self-signed: subject == issuer, and its own key verifies it.
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_issuer_name(cert.get())), 0);
  EvpPkey pub(X509_get_pubkey(cert.get()));
  ASSERT_TRUE(pub);
  EXPECT_EQ(X509_verify(cert.get(), pub.get()), 1);
  EXPECT_TRUE(EVP_PKEY_is_a(pub.get(), "EC"));
  char group[64] = {};
  size_t group_len = 0;
  ASSERT_EQ(EVP_PKEY_get_group_name(pub.get(), group, sizeof(group), &group_len), 1);
  EXPECT_STREQ(group, "prime256v1");

  char cn[128] = {};
  ASSERT_GT(
      X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof(cn)),
      0);
  EXPECT_STREQ(cn, "ca.example.com");

  // Host name and IP checks as a TLS client does them.
  EXPECT_EQ(X509_check_host(cert.get(), "ca.example.com", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "gate", 0, 0, nullptr), 1);
  EXPECT_NE(X509_check_host(cert.get(), "other.example.com", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "::1", 0), 1);
  EXPECT_NE(X509_check_ip_asc(cert.get(), "10.0.0.1", 0), 1);

  // A year of validity, starting (a little before) now.
  int days = 0, secs = 0;
  ASSERT_EQ(
      ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert.get()), X509_get0_notAfter(cert.get())),
      1);
  EXPECT_GE(days, 365);
  EXPECT_LE(days, 366);
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(cert.get())), 0);

  EXPECT_EQ(X509_get_extension_flags(cert.get()) & EXFLAG_CA, 0u);
  EXPECT_NE(X509_get_extended_key_usage(cert.get()) & XKU_SSL_SERVER, 0u);

  // The key file holds the private half of the certificate's key.
  FILE* f = std::fopen(key_.c_str(), "r");
  ASSERT_NE(f, nullptr);
  EvpPkey priv(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  ASSERT_TRUE(priv);
  EXPECT_EQ(X509_check_private_key(cert.get(), priv.get()), 1);
}

TEST_F(TlsCertTest, SerialsAreRandom) {
  ASSERT_TRUE(EnsureSelfSignedCert(cert_, key_, {"a"}, {}).ok());
  const std::string cert2 = dir_ + "/two.crt";
  const std::string key2 = dir_ + "/two.key";
  ASSERT_TRUE(EnsureSelfSignedCert(cert2, key2, {"a"}, {}).ok());
  X509Cert a = ReadCert(cert_);
  X509Cert b = ReadCert(cert2);
  ASSERT_TRUE(a && b);
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(a.get()), X509_get0_serialNumber(b.get())), 0);
}

TEST_F(TlsCertTest, ExistingPairIsLeftAlone) {
  ASSERT_TRUE(EnsureSelfSignedCert(cert_, key_, {"localhost"}, {}).ok());
  const std::string cert_pem = Slurp(cert_);
  const std::string key_pem = Slurp(key_);
  ASSERT_TRUE(EnsureSelfSignedCert(cert_, key_, {"different"}, {"10.1.2.3"}).ok());
  EXPECT_EQ(Slurp(cert_), cert_pem);
  EXPECT_EQ(Slurp(key_), key_pem);
}

TEST_F(TlsCertTest, KeyReadableByOthersIsRefused) {
  ASSERT_TRUE(EnsureSelfSignedCert(cert_, key_, {"localhost"}, {}).ok());
  ASSERT_EQ(::chmod(key_.c_str(), 0644), 0);
  Status s = EnsureSelfSignedCert(cert_, key_, {"localhost"}, {});
  EXPECT_EQ(s.code(), Code::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find("chmod 600"), std::string::npos) << s.message();
}

TEST_F(TlsCertTest, KeySymlinkIsRefused) {
  ASSERT_TRUE(EnsureSelfSignedCert(cert_, key_, {"localhost"}, {}).ok());
  const std::string link = dir_ + "/link.key";
  ASSERT_EQ(::symlink(key_.c_str(), link.c_str()), 0);
  EXPECT_EQ(EnsureSelfSignedCert(cert_, link, {"localhost"}, {}).code(), Code::kPermissionDenied);
}

TEST_F(TlsCertTest, MissingCertIsMadeForTheExistingKey) {
  ASSERT_TRUE(EnsureSelfSignedCert(cert_, key_, {"localhost"}, {}).ok());
  Result<std::string> pin = SpkiPinFromCertFile(cert_);
  ASSERT_TRUE(pin.has_value());
  const std::string key_pem = Slurp(key_);
  ASSERT_EQ(::unlink(cert_.c_str()), 0);

  ASSERT_TRUE(EnsureSelfSignedCert(cert_, key_, {"localhost"}, {}).ok());
  EXPECT_EQ(Slurp(key_), key_pem);
  EXPECT_EQ(SpkiPinFromCertFile(cert_), pin);
}

TEST_F(TlsCertTest, CertWithoutKeyIsNotReplaced) {
  ASSERT_TRUE(EnsureSelfSignedCert(cert_, key_, {"localhost"}, {}).ok());
  const std::string cert_pem = Slurp(cert_);
  ASSERT_EQ(::unlink(key_.c_str()), 0);
  EXPECT_EQ(EnsureSelfSignedCert(cert_, key_, {"localhost"}, {}).code(), Code::kFailedPrecondition);
  EXPECT_EQ(Slurp(cert_), cert_pem);
  EXPECT_FALSE(fs::exists(key_));
}

TEST_F(TlsCertTest, MismatchedPairIsRefused) {
  const std::string other_cert = dir_ + "/other.crt";
  const std::string other_key = dir_ + "/other.key";
  ASSERT_TRUE(EnsureSelfSignedCert(cert_, key_, {"localhost"}, {}).ok());
  ASSERT_TRUE(EnsureSelfSignedCert(other_cert, other_key, {"localhost"}, {}).ok());
  EXPECT_EQ(EnsureSelfSignedCert(cert_, other_key, {"localhost"}, {}).code(),
            Code::kInvalidArgument);
}

TEST_F(TlsCertTest, BadNamesWriteNothing) {
  EXPECT_EQ(EnsureSelfSignedCert(cert_, key_, {"bad name"}, {}).code(), Code::kInvalidArgument);
  EXPECT_EQ(EnsureSelfSignedCert(cert_, key_, {"a,DNS:evil.com"}, {}).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(EnsureSelfSignedCert(cert_, key_, {"ok"}, {"300.1.1.1"}).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(EnsureSelfSignedCert(cert_, key_, {"ok"}, {"localhost"}).code(),
            Code::kInvalidArgument);
  EXPECT_FALSE(fs::exists(cert_));
  EXPECT_FALSE(fs::exists(key_));
}

TEST_F(TlsCertTest, NoNamesStillMakesAUsableCert) {
  ASSERT_TRUE(EnsureSelfSignedCert(cert_, key_, {}, {"192.0.2.1"}).ok());
  X509Cert cert = ReadCert(cert_);
  ASSERT_TRUE(cert);
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof(cn));
  EXPECT_STREQ(cn, "192.0.2.1");
}

TEST_F(TlsCertTest, SpkiPinMatchesAnIndependentDigest) {
  ASSERT_TRUE(EnsureSelfSignedCert(cert_, key_, {"localhost"}, {}).ok());
  Result<std::string> pin = SpkiPinFromCertFile(cert_);
  ASSERT_TRUE(pin.has_value()) << pin.error().ToString();
  ASSERT_EQ(pin->size(), 7u + 64u);
  EXPECT_EQ(pin->substr(0, 7), "sha256:");
  EXPECT_EQ(pin->find_first_not_of("0123456789abcdef", 7), std::string::npos);

  // The same digest reached another way: the EVP_PKEY's DER SPKI
  // (what `openssl x509 -pubkey | openssl pkey -pubin -outform der` gives).
  X509Cert cert = ReadCert(cert_);
  ASSERT_TRUE(cert);
  EvpPkey pub(X509_get_pubkey(cert.get()));
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(pub.get(), &der);
  ASSERT_GT(len, 0);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(der, static_cast<size_t>(len), digest);
  OPENSSL_free(der);
  EXPECT_EQ(*pin,
            "sha256:" + HexEncode(std::string(reinterpret_cast<char*>(digest), sizeof(digest))));
}

TEST_F(TlsCertTest, SpkiPinErrors) {
  EXPECT_EQ(SpkiPinFromCertFile(dir_ + "/missing.crt").error().code(), Code::kNotFound);
  {
    std::ofstream out(cert_);
    out << "not a certificate\n";
  }
  EXPECT_EQ(SpkiPinFromCertFile(cert_).error().code(), Code::kInvalidArgument);
}

class TlsServerContextTest : public TlsCertTest {
 protected:
  Status Configure(const std::string& cert, const std::string& key) {
    CPtr<SSL_CTX, SSL_CTX_free> ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx) return Internal("SSL_CTX_new");
    Status s = ConfigureTlsServerContext(ctx.get(), cert, key);
    if (s.ok()) {
      EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx.get()), TLS1_2_VERSION);
      EXPECT_NE(SSL_CTX_get_options(ctx.get()) & SSL_OP_NO_RENEGOTIATION, 0u);
      EXPECT_NE(SSL_CTX_get_options(ctx.get()) & SSL_OP_NO_COMPRESSION, 0u);
    }
    return s;
  }
};

TEST_F(TlsServerContextTest, LoadsAGoodPair) {
  ASSERT_TRUE(EnsureSelfSignedCert(cert_, key_, {"localhost"}, {}).ok());
  Status s = Configure(cert_, key_);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(TlsServerContextTest, Errors) {
  EXPECT_EQ(Configure(cert_, key_).code(), Code::kNotFound);
  ASSERT_TRUE(EnsureSelfSignedCert(cert_, key_, {"localhost"}, {}).ok());
  const std::string other_cert = dir_ + "/other.crt";
  const std::string other_key = dir_ + "/other.key";
  ASSERT_TRUE(EnsureSelfSignedCert(other_cert, other_key, {"localhost"}, {}).ok());
  EXPECT_EQ(Configure(cert_, other_key).code(), Code::kInvalidArgument);
  EXPECT_EQ(Configure(cert_, dir_ + "/missing.key").code(), Code::kNotFound);
  ASSERT_EQ(::chmod(key_.c_str(), 0640), 0);
  EXPECT_EQ(Configure(cert_, key_).code(), Code::kPermissionDenied);
}

}  // namespace
}  // namespace gate::ca
