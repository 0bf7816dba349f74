// Signatures as a security key makes them, for tests of FIDO2/WebAuthn
// verification (pam_gate's and gate-ca's): ES256 (ECDSA P-256 over SHA-256,
// DER) or Ed25519 (64 raw bytes), by the key's type.
#ifndef GATE_TESTS_UNIT_COMMON_TEST_SIGNING_H_
#define GATE_TESTS_UNIT_COMMON_TEST_SIGNING_H_

#include <openssl/evp.h>

#include <cstdlib>
#include <string>
#include <string_view>

#include "gate/cptr.h"

namespace gate::testing {

// key's signature over msg; aborts if OpenSSL fails (a broken test setup).
inline std::string SignLikeASecurityKey(EVP_PKEY* key, std::string_view msg) {
  CPtr<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
  const bool ed25519 = EVP_PKEY_get_id(key) == EVP_PKEY_ED25519;
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, ed25519 ? nullptr : EVP_sha256(), nullptr, key) != 1) {
    std::abort();
  }
  std::size_t len = 0;
  const auto* m = reinterpret_cast<const unsigned char*>(msg.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &len, m, msg.size()) != 1) std::abort();
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, m,
                     msg.size()) != 1) {
    std::abort();
  }
  sig.resize(len);
  return sig;
}

}  // namespace gate::testing

#endif  // GATE_TESTS_UNIT_COMMON_TEST_SIGNING_H_
