// Time-based one-time passwords (RFC 6238) as authenticator apps implement
// them: HMAC-SHA1, 6 digits, 30-second steps counted from the Unix epoch.
//
// VerifyTotp only says whether a code is valid now; it does not stop the same
// code from being used twice. The caller must pass the returned step to
// Store::ConsumeTotpStep and accept the login only if that returns true.
//
// Thread safety: all functions are safe to call concurrently.
#ifndef GATE_CA_AUTH_TOTP_H_
#define GATE_CA_AUTH_TOTP_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "gate/secret.h"
#include "gate/status.h"

namespace gate::ca {

inline constexpr int kTotpDigits = 6;
inline constexpr int kTotpStepSeconds = 30;
// RFC 4226 section 4 asks for at least 128 bits and recommends 160, the
// HMAC-SHA1 output size.
inline constexpr std::size_t kTotpSecretBytes = 20;
// Largest window VerifyTotp accepts; a wider one would mostly help guessing.
inline constexpr int kTotpMaxWindow = 10;

// A new random secret of kTotpSecretBytes raw bytes from the OpenSSL CSPRNG.
// Internal if the RNG fails.
Result<SecretString> GenerateTotpSecret();

// The otpauth:// URI that authenticator apps import (usually as a QR code):
//   otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER
//       &algorithm=SHA1&digits=6&period=30
// with issuer and account percent-encoded and the secret in unpadded base32.
// The result contains the secret: show it to its owner only, never log it.
// Returns an empty string if memory allocation fails.
std::string TotpUri(const SecretString& secret, std::string_view account, std::string_view issuer);

// Checks code against the codes for the steps now/30 - window ..
// now/30 + window, comparing in constant time. On a match returns that step
// (now / kTotpStepSeconds + offset). Errors:
//   InvalidArgument     code is not exactly kTotpDigits ASCII digits, or
//                       window is outside [0, kTotpMaxWindow], or now < 0
//   FailedPrecondition  secret is empty (no OTP enrolled)
//   Unauthenticated     "invalid OTP code"
//   Internal            liboath failed
Result<std::int64_t> VerifyTotp(const SecretString& secret, std::string_view code, std::int64_t now,
                                int window = 1);

// The code valid at `now` (for tests and tools). Same errors as VerifyTotp
// for the secret and now.
Result<std::string> TotpCode(const SecretString& secret, std::int64_t now);

}  // namespace gate::ca

#endif  // GATE_CA_AUTH_TOTP_H_
