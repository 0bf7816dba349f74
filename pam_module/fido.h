// The U2F / FIDO2 factor (second_factor=u2f): a security key attached to the
// machine where PAM runs proves possession of a credential registered with
// `gate mfa add --type=u2f` (a fido2 line in the authfile, gate/authfile.h).
//
// MakeFido() (declared in factor.h) is the factor; VerifyAssertion is the
// check it applies to what the key returns, exposed so tests can feed it
// assertions from a software authenticator.
#ifndef GATE_PAM_FIDO_H_
#define GATE_PAM_FIDO_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "gate/authfile.h"
#include "pam_module/factor.h"

namespace gate::pam {

// Authenticator data flags (WebAuthn §6.1).
inline constexpr std::uint8_t kFidoFlagUserPresent = 0x01;
inline constexpr std::uint8_t kFidoFlagUserVerified = 0x04;

// How an assertion's authenticator data is encoded: kRaw is the bytes the
// authenticator signed (rpIdHash || flags || signCount || ...); kCbor is the
// same wrapped in a CBOR byte string, as fido_assert_authdata_ptr returns it.
enum class AuthdataEncoding { kRaw, kCbor };

// One assertion statement, as returned by a key. Views; the caller owns the
// bytes for the duration of the call.
struct Assertion {
  std::string_view authdata;
  AuthdataEncoding encoding = AuthdataEncoding::kRaw;
  std::string_view signature;  // ES256: DER ECDSA; EdDSA: 64 raw bytes
};

// Verifies `assertion` against the stored credential `cred`:
//   - the signature over authdata || client_data_hash is valid for
//     cred.public_key (cred.cose_alg es256 or eddsa),
//   - the authenticator data's rpIdHash is SHA-256(rp_id),
//   - the user-present flag is set, and the user-verified flag too when
//     require_uv.
// client_data_hash is the 32-byte SHA-256 of the client data the caller
// generated (never the one the key echoes back).
// Returns kSuccess only when all of these hold; kFailure when the assertion
// does not prove the factor (bad or malformed signature or authdata, wrong
// key, wrong rp id, missing flags); kError when the stored credential or the
// caller's input is unusable (unknown algorithm, malformed public key, empty
// rp id, hash not 32 bytes) or libfido2 fails to allocate. Logs the reason
// (never key material or credential ids). Thread-safe.
Outcome VerifyAssertion(const authfile::Fido2Entry& cred, std::string_view rp_id,
                        std::string_view client_data_hash, const Assertion& assertion,
                        bool require_uv);

// The client data pam_gate signs for (WebAuthn CollectedClientData, compact
// JSON): {"challenge": base64url(challenge), "crossOrigin": false,
// "origin": origin, "type": "webauthn.get"}. Exposed for tests.
std::string FidoClientData(std::string_view challenge, std::string_view origin);

}  // namespace gate::pam

#endif  // GATE_PAM_FIDO_H_
