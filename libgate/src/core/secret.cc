#include "gate/secret.h"

namespace gate {

// The usual accumulate-the-differences loop (what CRYPTO_memcmp does in C):
// every byte is read and the branch comes only at the end. Written here, not
// taken from libcrypto, because pam_gate.so uses it on every OTP check and
// loading libcrypto there cost 0.5 ms per authentication (docs/benchmarks.md).
// The volatile accesses keep the compiler from stopping at the first
// difference.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  const volatile unsigned char* x = reinterpret_cast<const unsigned char*>(a.data());
  const volatile unsigned char* y = reinterpret_cast<const unsigned char*>(b.data());
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(x[i] ^ y[i]);
  return diff == 0;
}

}  // namespace gate
