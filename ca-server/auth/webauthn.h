// Server-side WebAuthn (W3C Web Authentication, level 2) verification of
// what a browser's navigator.credentials returns: a registration
// (attestation `none` or `packed`) and an assertion, for ES256 and EdDSA
// keys. libfido2 parses the authenticator data, the attestation statement
// and the public key and checks the signatures (fido_cred_* and
// fido_assert_*); the attestation object's outer CBOR map is split here
// (SplitAttestationObject) by a small bounded reader.
//
// What each Verify function checks, in order, refusing at the first
// failure with InvalidArgument (malformed or oversize input) or
// Unauthenticated (well-formed but not acceptable), and a message that
// names the check and never echoes the input:
//  - every input within its size cap (kMax* below);
//  - clientDataJSON: a JSON object whose `type` is webauthn.create /
//    webauthn.get, whose `challenge` decodes (base64url) to the expected
//    challenge (constant-time compare), and whose `origin` is one of the
//    relying party's origins exactly;
//  - authenticator data: the RP ID hash is SHA-256 of the RP ID; user
//    presence (UP) is set; user verification (UV) is set if required;
//  - registration: attested credential data present, key ES256 or EdDSA,
//    fmt `none` (no statement) or `packed` (signature checked against the
//    x5c certificate, or self attestation against the credential key);
//  - assertion: the signature over authenticatorData || SHA-256(clientData)
//    with the stored key.
// The challenge's single use and expiry (WebauthnChallenges) and the
// signature counter (UserStore::ConsumeWebauthnCounter) are the caller's.
//
// Pure functions of their inputs (no I/O, no clock): thread-safe.
#ifndef GATE_CA_AUTH_WEBAUTHN_H_
#define GATE_CA_AUTH_WEBAUTHN_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gate/status.h"

namespace gate::ca::webauthn {

// Caps on what a browser sends: far above what real keys produce, so the
// parsers never see unbounded input.
inline constexpr std::size_t kMaxClientDataJson = 4096;
inline constexpr std::size_t kMaxAttestationObject = 16384;
inline constexpr std::size_t kMaxAuthenticatorData = 4096;
inline constexpr std::size_t kMaxSignature = 512;
inline constexpr std::size_t kMaxCredentialId = 1023;  // WebAuthn's own limit
inline constexpr std::size_t kChallengeBytes = 32;

// COSE algorithm identifiers (RFC 9053).
inline constexpr int kCoseEs256 = -7;
inline constexpr int kCoseEdDsa = -8;

// Authenticator data flags (WebAuthn §6.1).
inline constexpr std::uint8_t kFlagUserPresent = 0x01;
inline constexpr std::uint8_t kFlagUserVerified = 0x04;
inline constexpr std::uint8_t kFlagAttestedData = 0x40;

using Bytes = std::vector<std::uint8_t>;

// The relying party as gate.yaml configures it (webauthn.rp_id, .origins).
struct RelyingParty {
  std::string id;                    // e.g. "gate.example.com"
  std::vector<std::string> origins;  // e.g. "https://gate.example.com:3080"
  bool require_user_verification = false;
};

// A registration as the browser returned it (response.clientDataJSON and
// response.attestationObject, decoded from base64url by the caller).
struct RegistrationResponse {
  std::string client_data_json;
  std::string attestation_object;
};

// A verified new credential, ready for UserStore::AddDevice.
struct Credential {
  Bytes credential_id;
  Bytes public_key;  // libfido2's form: ES256 x||y (64 bytes), EdDSA 32 bytes
  int cose_alg = 0;  // kCoseEs256 or kCoseEdDsa
  std::uint32_t sign_count = 0;
  std::uint8_t flags = 0;
  std::string fmt;  // "none" or "packed"
};

Result<Credential> VerifyRegistration(const RelyingParty& rp, const Bytes& challenge,
                                      const RegistrationResponse& response);

// An assertion as the browser returned it.
struct AssertionResponse {
  Bytes credential_id;
  std::string client_data_json;
  std::string authenticator_data;
  std::string signature;
};

// The stored key an assertion is checked against.
struct StoredKey {
  Bytes public_key;  // as Credential::public_key
  int cose_alg = 0;
};

struct VerifiedAssertion {
  std::uint32_t sign_count = 0;
  std::uint8_t flags = 0;
};

Result<VerifiedAssertion> VerifyAssertion(const RelyingParty& rp, const Bytes& challenge,
                                          const StoredKey& key, const AssertionResponse& response);

// --- Parsers, exposed for tests and fuzzers ---------------------------------

// Checks clientDataJSON as above (type, challenge, origin).
Status CheckClientData(std::string_view client_data_json, std::string_view type,
                       const Bytes& challenge, const RelyingParty& rp);

// The attestation object's three members. att_stmt is the raw CBOR of the
// attStmt map; auth_data the bytes of the authData byte string. Both view
// into the input. InvalidArgument unless the input is exactly one CBOR map
// of definite length holding text keys "fmt" (text), "attStmt" (map) and
// "authData" (bytes), each once (other keys are ignored), nesting at most
// 16 deep.
struct AttestationParts {
  std::string fmt;
  std::string_view att_stmt;
  std::string_view auth_data;
};
Result<AttestationParts> SplitAttestationObject(std::string_view cbor);

// OK if bytes is a sequence of well-formed definite-length CBOR items
// (nesting at most 16 deep, every count and length within what is left);
// InvalidArgument otherwise. Run on what libfido2 hands to libcbor (the COSE
// key and extensions in authenticator data), which would otherwise allocate
// for whatever count a header claims.
Status CheckCborItems(std::string_view bytes);

}  // namespace gate::ca::webauthn

#endif  // GATE_CA_AUTH_WEBAUTHN_H_
