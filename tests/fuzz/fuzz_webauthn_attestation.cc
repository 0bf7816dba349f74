// A WebAuthn registration's attestation object (CBOR), as a browser sends
// it to gate-ca: split, then verified as far as it goes (libfido2 parses the
// authenticator data, the COSE key and the attestation statement).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ca-server/auth/webauthn.h"
#include "gate/bytes.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace webauthn = gate::ca::webauthn;
  const std::string object(reinterpret_cast<const char*>(data), size);
  (void)webauthn::SplitAttestationObject(object);
  // A challenge and client data that pass, so verification reaches the
  // attestation object's contents.
  const webauthn::Bytes challenge(webauthn::kChallengeBytes, 0x2a);
  const webauthn::RelyingParty rp{"gate.example.com", {"https://gate.example.com"}, false};
  const std::string client_data =
      R"({"type":"webauthn.create","challenge":")" +
      gate::Base64UrlEncode(std::string(challenge.begin(), challenge.end())) +
      R"(","origin":"https://gate.example.com"})";
  (void)webauthn::VerifyRegistration(rp, challenge, {client_data, object});
  return 0;
}
