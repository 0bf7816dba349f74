#include "ca-server/signer/tls_cert.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "gate/bytes.h"
#include "gate/cptr.h"
#include "gate/log.h"
#include "gate/secret.h"
#include "gate/secure_file.h"

namespace gate::ca {
namespace {

using BigNum = CPtr<BIGNUM, BN_free>;
using Bio = CPtr<BIO, BIO_free>;
using EvpPkey = CPtr<EVP_PKEY, EVP_PKEY_free>;
using GeneralName = CPtr<GENERAL_NAME, GENERAL_NAME_free>;
using GeneralNames = CPtr<GENERAL_NAMES, GENERAL_NAMES_free>;
using X509Cert = CPtr<X509, X509_free>;
using X509Ext = CPtr<X509_EXTENSION, X509_EXTENSION_free>;

constexpr long kValiditySeconds = 365L * 24 * 60 * 60;
// Back-dated so a client whose clock is a little behind still accepts a
// certificate made seconds ago.
constexpr long kBackdateSeconds = 5 * 60;
constexpr std::size_t kMaxCommonName = 64;  // ub_common_name in RFC 5280
constexpr std::size_t kMaxPemSize = 64 * 1024;
// TLS 1.2 suites: ECDHE only (forward secrecy) and AEAD only. Every TLS 1.3
// suite qualifies, so OpenSSL's defaults stay for 1.3.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// The message of the newest OpenSSL error, clearing the queue, so one
// failure's leftovers do not show up in the next one's message.
std::string OpenSslError(std::string_view what) {
  std::string msg(what);
  const unsigned long err = ERR_peek_last_error();
  if (err != 0) {
    std::array<char, 256> buf{};
    ERR_error_string_n(err, buf.data(), buf.size());
    msg += ": ";
    msg += buf.data();
  }
  ERR_clear_error();
  return msg;
}

Result<bool> Exists(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT) return false;
  return Err(Unavailable("cannot stat " + path + ": " + std::strerror(errno)));
}

bool IsDnsName(std::string_view name) {
  if (name.size() > 2 && name.substr(0, 2) == "*.") name.remove_prefix(2);
  if (name.empty() || name.size() > 253 || name.front() == '.' || name.back() == '.' ||
      name.front() == '-') {
    return false;
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.';
    if (!ok) return false;
  }
  return name.find("..") == std::string_view::npos;
}

// The 4 or 16 address bytes of an IP literal, or empty if it is not one.
std::vector<unsigned char> IpBytes(const std::string& ip) {
  in_addr v4{};
  if (::inet_pton(AF_INET, ip.c_str(), &v4) == 1) {
    const auto* p = reinterpret_cast<const unsigned char*>(&v4);
    return {p, p + sizeof(v4)};
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, ip.c_str(), &v6) == 1) {
    const auto* p = reinterpret_cast<const unsigned char*>(&v6);
    return {p, p + sizeof(v6)};
  }
  return {};
}

Status CheckNames(const std::vector<std::string>& dns_names,
                  const std::vector<std::string>& ip_addresses) {
  for (const std::string& name : dns_names) {
    if (!IsDnsName(name))
      return InvalidArgument("not a valid DNS name for the TLS certificate: " + name);
  }
  for (const std::string& ip : ip_addresses) {
    if (IpBytes(ip).empty()) {
      return InvalidArgument("not a valid IP address for the TLS certificate: " + ip);
    }
  }
  return Status::Ok();
}

Result<EvpPkey> LoadKey(const std::string& key_path) {
  FilePolicy policy;  // secret, owned by our euid
  policy.max_size = kMaxPemSize;
  Result<SecretString> pem = ReadSecureFile(key_path, policy);
  if (!pem) return Err(pem.error());
  Bio bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  if (!bio) return Err(Internal(OpenSslError("BIO_new_mem_buf")));
  EvpPkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return Err(InvalidArgument(OpenSslError("no PEM private key in " + key_path)));
  return key;
}

Result<X509Cert> LoadCert(const std::string& cert_path) {
  Result<std::string> pem = ReadFile(cert_path, kMaxPemSize);
  if (!pem) return Err(pem.error());
  Bio bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  if (!bio) return Err(Internal(OpenSslError("BIO_new_mem_buf")));
  X509Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return Err(InvalidArgument(OpenSslError("no PEM certificate in " + cert_path)));
  return cert;
}

Result<SecretString> KeyToPem(EVP_PKEY* key) {
  // A secure-memory BIO wipes its buffer when it grows and when it is freed.
  Bio bio(BIO_new(BIO_s_secmem()));
  if (!bio) return Err(Internal(OpenSslError("BIO_new")));
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Err(Internal(OpenSslError("PEM_write_bio_PrivateKey")));
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) return Err(Internal("PEM_write_bio_PrivateKey wrote nothing"));
  return SecretString(std::string_view(data, static_cast<std::size_t>(len)));
}

Result<std::string> CertToPem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio) return Err(Internal(OpenSslError("BIO_new")));
  if (PEM_write_bio_X509(bio.get(), cert) != 1) {
    return Err(Internal(OpenSslError("PEM_write_bio_X509")));
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) return Err(Internal("PEM_write_bio_X509 wrote nothing"));
  return std::string(data, static_cast<std::size_t>(len));
}

Status AddConfExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509Ext ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return Internal(OpenSslError(std::string("cannot add certificate extension ") + value));
  }
  return Status::Ok();
}

Status AddSubjectAltName(X509* cert, const std::vector<std::string>& dns_names,
                         const std::vector<std::string>& ip_addresses) {
  if (dns_names.empty() && ip_addresses.empty()) return Status::Ok();
  GeneralNames names(GENERAL_NAMES_new());
  if (!names) return Internal(OpenSslError("GENERAL_NAMES_new"));
  auto push = [&names](int type, ASN1_STRING* value) -> Status {
    GeneralName name(GENERAL_NAME_new());
    if (!name) {
      ASN1_STRING_free(value);
      return Internal(OpenSslError("GENERAL_NAME_new"));
    }
    GENERAL_NAME_set0_value(name.get(), type, value);
    if (sk_GENERAL_NAME_push(names.get(), name.get()) <= 0) {
      return Internal(OpenSslError("sk_GENERAL_NAME_push"));
    }
    name.release();  // now owned by names
    return Status::Ok();
  };
  for (const std::string& dns : dns_names) {
    ASN1_IA5STRING* value = ASN1_IA5STRING_new();
    if (value == nullptr || ASN1_STRING_set(value, dns.data(), static_cast<int>(dns.size())) != 1) {
      ASN1_IA5STRING_free(value);
      return Internal(OpenSslError("ASN1_STRING_set"));
    }
    GATE_RETURN_IF_ERROR(push(GEN_DNS, value));
  }
  for (const std::string& ip : ip_addresses) {
    const std::vector<unsigned char> bytes = IpBytes(ip);
    ASN1_OCTET_STRING* value = ASN1_OCTET_STRING_new();
    if (value == nullptr ||
        ASN1_OCTET_STRING_set(value, bytes.data(), static_cast<int>(bytes.size())) != 1) {
      ASN1_OCTET_STRING_free(value);
      return Internal(OpenSslError("ASN1_OCTET_STRING_set"));
    }
    GATE_RETURN_IF_ERROR(push(GEN_IPADD, value));
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return Internal(OpenSslError("cannot add subjectAltName"));
  }
  return Status::Ok();
}

Result<X509Cert> MakeSelfSignedCert(EVP_PKEY* key, const std::vector<std::string>& dns_names,
                                    const std::vector<std::string>& ip_addresses) {
  X509Cert cert(X509_new());
  if (!cert) return Err(Internal(OpenSslError("X509_new")));
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return Err(Internal(OpenSslError("X509_set_version")));
  }

  // RFC 5280 4.1.2.2: positive, at most 20 octets, unpredictable. Setting
  // bit 6 of the first byte keeps it 16 bytes long and positive.
  std::array<unsigned char, 16> serial{};
  if (RAND_bytes(serial.data(), static_cast<int>(serial.size())) != 1) {
    return Err(Internal(OpenSslError("RAND_bytes")));
  }
  serial[0] = static_cast<unsigned char>((serial[0] & 0x7f) | 0x40);
  BigNum bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return Err(Internal(OpenSslError("cannot set serial number")));
  }

  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValiditySeconds) == nullptr) {
    return Err(Internal(OpenSslError("cannot set validity")));
  }
  if (X509_set_pubkey(cert.get(), key) != 1) return Err(Internal(OpenSslError("X509_set_pubkey")));

  std::string cn = "gate-ca";
  if (!dns_names.empty() && dns_names.front().size() <= kMaxCommonName) {
    cn = dns_names.front();
  } else if (dns_names.empty() && !ip_addresses.empty()) {
    cn = ip_addresses.front();
  }
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1 ||
      X509_set_issuer_name(cert.get(), subject) != 1) {
    return Err(Internal(OpenSslError("cannot set subject")));
  }

  GATE_RETURN_IF_ERROR(AddConfExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  GATE_RETURN_IF_ERROR(AddConfExtension(cert.get(), NID_ext_key_usage, "serverAuth"));
  GATE_RETURN_IF_ERROR(AddConfExtension(cert.get(), NID_subject_key_identifier, "hash"));
  GATE_RETURN_IF_ERROR(AddSubjectAltName(cert.get(), dns_names, ip_addresses));

  if (X509_sign(cert.get(), key, EVP_sha256()) <= 0) {
    return Err(Internal(OpenSslError("X509_sign")));
  }
  return cert;
}

Status WriteCert(const std::string& cert_path, EVP_PKEY* key,
                 const std::vector<std::string>& dns_names,
                 const std::vector<std::string>& ip_addresses) {
  Result<X509Cert> cert = MakeSelfSignedCert(key, dns_names, ip_addresses);
  if (!cert) return cert.error();
  Result<std::string> pem = CertToPem(cert->get());
  if (!pem) return pem.error();
  return WriteFileAtomic(cert_path, *pem, 0644);
}

}  // namespace

Status EnsureSelfSignedCert(const std::string& cert_path, const std::string& key_path,
                            const std::vector<std::string>& dns_names,
                            const std::vector<std::string>& ip_addresses) {
  Result<bool> have_cert = Exists(cert_path);
  if (!have_cert) return have_cert.error();
  Result<bool> have_key = Exists(key_path);
  if (!have_key) return have_key.error();

  if (*have_cert && *have_key) {
    Result<EvpPkey> key = LoadKey(key_path);
    if (!key) return key.error();
    Result<X509Cert> cert = LoadCert(cert_path);
    if (!cert) return cert.error();
    if (X509_check_private_key(cert->get(), key->get()) != 1) {
      ERR_clear_error();
      return InvalidArgument("TLS key " + key_path + " does not belong to certificate " +
                             cert_path);
    }
    if (X509_cmp_current_time(X509_get0_notAfter(cert->get())) <= 0) {
      log::Warning("TLS certificate " + cert_path +
                   " has expired; remove it and restart to make a new one for the same key");
    }
    return Status::Ok();
  }
  if (*have_cert) {
    return FailedPrecondition("TLS certificate " + cert_path + " exists but its key " + key_path +
                              " does not; restore the key, or remove the certificate to make a "
                              "new pair");
  }

  GATE_RETURN_IF_ERROR(CheckNames(dns_names, ip_addresses));
  if (*have_key) {
    Result<EvpPkey> key = LoadKey(key_path);
    if (!key) return key.error();
    return WriteCert(cert_path, key->get(), dns_names, ip_addresses);
  }

  EvpPkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return Internal(OpenSslError("cannot generate a P-256 key"));
  Result<SecretString> key_pem = KeyToPem(key.get());
  if (!key_pem) return key_pem.error();
  GATE_RETURN_IF_ERROR(WriteFileAtomic(key_path, key_pem->view(), 0600));
  return WriteCert(cert_path, key.get(), dns_names, ip_addresses);
}

Result<std::string> SpkiPinFromCertFile(const std::string& cert_path) {
  Result<X509Cert> cert = LoadCert(cert_path);
  if (!cert) return Err(cert.error());
  const X509_PUBKEY* spki = X509_get_X509_PUBKEY(cert->get());
  const int len = i2d_X509_PUBKEY(spki, nullptr);
  if (spki == nullptr || len <= 0) return Err(Internal(OpenSslError("i2d_X509_PUBKEY")));
  std::string der(static_cast<std::size_t>(len), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_X509_PUBKEY(spki, &out) != len) return Err(Internal(OpenSslError("i2d_X509_PUBKEY")));
  return "sha256:" + HexEncode(Sha256(der));
}

Status ConfigureTlsServerContext(SSL_CTX* ctx, const std::string& cert_path,
                                 const std::string& key_path) {
  if (ctx == nullptr) return Internal("no TLS context");
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) {
    return Internal(OpenSslError("cannot configure TLS"));
  }
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);

  Result<bool> have_cert = Exists(cert_path);
  if (!have_cert) return have_cert.error();
  if (!*have_cert) return NotFound("TLS certificate " + cert_path + " does not exist");
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_path.c_str()) != 1) {
    return InvalidArgument(OpenSslError("cannot load TLS certificate " + cert_path));
  }
  Result<EvpPkey> key = LoadKey(key_path);
  if (!key) return key.error();
  if (SSL_CTX_use_PrivateKey(ctx, key->get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return InvalidArgument(
        OpenSslError("TLS key " + key_path + " does not belong to " + cert_path));
  }
  return Status::Ok();
}

}  // namespace gate::ca
