// A WebAuthn security key in software, for tests only: an ES256 or Ed25519
// key pair made with OpenSSL that builds what a browser returns from
// navigator.credentials.create() and .get() (clientDataJSON, the CBOR
// attestation object with a COSE key, authenticator data, signatures), so
// the server-side verification runs on real signatures.
#ifndef GATE_TESTS_UNIT_CA_SERVER_WEBAUTHN_SOFT_KEY_H_
#define GATE_TESTS_UNIT_CA_SERVER_WEBAUTHN_SOFT_KEY_H_

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ca-server/auth/webauthn.h"
#include "common/test_signing.h"
#include "gate/bytes.h"
#include "gate/cptr.h"

namespace gate::ca::webauthn_test {

using EvpPkey = CPtr<EVP_PKEY, EVP_PKEY_free>;
using X509Ptr = CPtr<X509, X509_free>;

// Minimal CBOR encoding (RFC 8949 §3), definite lengths only.
namespace cbor {
inline std::string Head(int major, std::uint64_t n) {
  std::string out;
  const auto m = static_cast<char>(major << 5);
  if (n < 24) {
    out.push_back(static_cast<char>(m | static_cast<char>(n)));
  } else if (n <= 0xff) {
    out.push_back(static_cast<char>(m | 24));
    out.push_back(static_cast<char>(n));
  } else if (n <= 0xffff) {
    out.push_back(static_cast<char>(m | 25));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xff));
  } else {
    out.push_back(static_cast<char>(m | 26));
    for (int shift = 24; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((n >> shift) & 0xff));
  }
  return out;
}
inline std::string Int(std::int64_t v) {
  return v >= 0 ? Head(0, static_cast<std::uint64_t>(v))
                : Head(1, static_cast<std::uint64_t>(-1 - v));
}
inline std::string Bytes(std::string_view b) { return Head(2, b.size()) + std::string(b); }
inline std::string Text(std::string_view t) { return Head(3, t.size()) + std::string(t); }
inline std::string Map(std::size_t pairs) { return Head(5, pairs); }
inline std::string Array(std::size_t items) { return Head(4, items); }
}  // namespace cbor

inline std::string Str(const std::vector<std::uint8_t>& v) {
  return std::string(v.begin(), v.end());
}
inline std::vector<std::uint8_t> Vec(std::string_view s) { return {s.begin(), s.end()}; }

inline std::string ClientData(std::string_view type, const std::vector<std::uint8_t>& challenge,
                              std::string_view origin) {
  return std::string(R"({"type":")") + std::string(type) + R"(","challenge":")" +
         Base64UrlEncode(Str(challenge)) + R"(","origin":")" + std::string(origin) +
         R"(","crossOrigin":false})";
}

class SoftKey {
 public:
  enum class Alg { kEs256, kEd25519 };

  explicit SoftKey(Alg alg) : alg_(alg) {
    key_.reset(alg == Alg::kEs256 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                                  : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    if (!key_) std::abort();
    credential_id_ = *RandomBytes(48);
  }

  bool es256() const { return alg_ == Alg::kEs256; }
  int cose_alg() const { return es256() ? webauthn::kCoseEs256 : webauthn::kCoseEdDsa; }
  const std::string& credential_id() const { return credential_id_; }
  EVP_PKEY* key() const { return key_.get(); }

  // The COSE_Key (RFC 9053) of the public key; alg_override replaces the
  // algorithm it names.
  std::string CoseKey(std::int64_t alg_override = 0) const {
    unsigned char buf[128];
    std::size_t len = sizeof buf;
    const std::int64_t alg = alg_override != 0 ? alg_override : cose_alg();
    if (es256()) {
      if (EVP_PKEY_get_octet_string_param(key_.get(), OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof buf,
                                          &len) != 1 ||
          len != 65) {
        std::abort();
      }
      const std::string point(reinterpret_cast<const char*>(buf), len);
      return cbor::Map(5) + cbor::Int(1) + cbor::Int(2) + cbor::Int(3) + cbor::Int(alg) +
             cbor::Int(-1) + cbor::Int(1) + cbor::Int(-2) + cbor::Bytes(point.substr(1, 32)) +
             cbor::Int(-3) + cbor::Bytes(point.substr(33, 32));
    }
    if (EVP_PKEY_get_raw_public_key(key_.get(), buf, &len) != 1) std::abort();
    return cbor::Map(4) + cbor::Int(1) + cbor::Int(1) + cbor::Int(3) + cbor::Int(alg) +
           cbor::Int(-1) + cbor::Int(6) + cbor::Int(-2) +
           cbor::Bytes(std::string(reinterpret_cast<const char*>(buf), len));
  }

  // rpIdHash || flags || signCount, and (with attested) the attested
  // credential data: AAGUID, id length, id, COSE key.
  std::string AuthData(std::string_view rp_id, std::uint8_t flags, std::uint32_t count,
                       bool attested, std::int64_t alg_override = 0) const {
    std::string out = Sha256(rp_id);
    out.push_back(static_cast<char>(flags | (attested ? webauthn::kFlagAttestedData : 0)));
    for (int shift = 24; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((count >> shift) & 0xff));
    if (attested) {
      out += std::string(16, '\0');
      out.push_back(static_cast<char>(credential_id_.size() >> 8));
      out.push_back(static_cast<char>(credential_id_.size() & 0xff));
      out += credential_id_ + CoseKey(alg_override);
    }
    return out;
  }

  static std::string AttestationObject(std::string_view fmt, std::string_view att_stmt,
                                       std::string_view auth_data) {
    return cbor::Map(3) + cbor::Text("fmt") + cbor::Text(fmt) + cbor::Text("attStmt") +
           std::string(att_stmt) + cbor::Text("authData") + cbor::Bytes(auth_data);
  }

  // A registration with attestation `none`.
  webauthn::RegistrationResponse RegisterNone(const std::vector<std::uint8_t>& challenge,
                                              std::string_view rp_id, std::string_view origin,
                                              std::uint8_t flags = webauthn::kFlagUserPresent,
                                              std::uint32_t count = 0) const {
    return {ClientData("webauthn.create", challenge, origin),
            AttestationObject("none", cbor::Map(0), AuthData(rp_id, flags, count, true))};
  }

  // A registration with `packed` self attestation (signed by the credential
  // key itself).
  webauthn::RegistrationResponse RegisterPackedSelf(const std::vector<std::uint8_t>& challenge,
                                                    std::string_view rp_id,
                                                    std::string_view origin) const {
    const std::string client_data = ClientData("webauthn.create", challenge, origin);
    const std::string auth_data = AuthData(rp_id, webauthn::kFlagUserPresent, 1, true);
    const std::string sig =
        gate::testing::SignLikeASecurityKey(key_.get(), auth_data + Sha256(client_data));
    const std::string stmt = cbor::Map(2) + cbor::Text("alg") + cbor::Int(cose_alg()) +
                             cbor::Text("sig") + cbor::Bytes(sig);
    return {client_data, AttestationObject("packed", stmt, auth_data)};
  }

  // An assertion (navigator.credentials.get()).
  webauthn::AssertionResponse Assert(const std::vector<std::uint8_t>& challenge,
                                     std::string_view rp_id, std::string_view origin,
                                     std::uint8_t flags, std::uint32_t count) const {
    webauthn::AssertionResponse r;
    r.credential_id = Vec(credential_id_);
    r.client_data_json = ClientData("webauthn.get", challenge, origin);
    r.authenticator_data = AuthData(rp_id, flags, count, false);
    r.signature = gate::testing::SignLikeASecurityKey(
        key_.get(), r.authenticator_data + Sha256(r.client_data_json));
    return r;
  }

 private:
  Alg alg_;
  EvpPkey key_;
  std::string credential_id_;
};

// A self-signed P-256 attestation certificate (DER) for `packed` with x5c.
inline std::string AttestationCertificate(EVP_PKEY* key) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) std::abort();
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("gate test attestation"), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_set_pubkey(cert.get(), key) != 1 || X509_sign(cert.get(), key, EVP_sha256()) == 0) {
    std::abort();
  }
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert.get(), &der);
  if (len <= 0) std::abort();
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace gate::ca::webauthn_test

#endif  // GATE_TESTS_UNIT_CA_SERVER_WEBAUTHN_SOFT_KEY_H_
