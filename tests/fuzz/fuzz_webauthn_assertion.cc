// A WebAuthn assertion's authenticator data and signature, as a browser
// sends them to gate-ca, checked against a fixed ES256 key. The first byte
// says how much of the rest is authenticator data; the remainder is the
// signature.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ca-server/auth/webauthn.h"
#include "gate/bytes.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace webauthn = gate::ca::webauthn;
  if (size < 1) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t auth_len = std::min<std::size_t>(rest.size(), data[0]);
  const webauthn::Bytes challenge(webauthn::kChallengeBytes, 0x2a);
  const webauthn::RelyingParty rp{"gate.example.com", {"https://gate.example.com"}, false};
  webauthn::AssertionResponse response;
  response.credential_id = {1, 2, 3};
  response.client_data_json =
      R"({"type":"webauthn.get","challenge":")" +
      gate::Base64UrlEncode(std::string(challenge.begin(), challenge.end())) +
      R"(","origin":"https://gate.example.com"})";
  response.authenticator_data = std::string(rest.substr(0, auth_len));
  response.signature = std::string(rest.substr(auth_len));
  // A valid P-256 point (the generator), as libfido2 stores ES256 keys.
  static const webauthn::Bytes kKey = {
      0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63,
      0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1,
      0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f,
      0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33, 0x57,
      0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5};
  (void)webauthn::VerifyAssertion(rp, challenge, {kKey, webauthn::kCoseEs256}, response);
  return 0;
}
