// A WebAuthn response's clientDataJSON, as a browser sends it to gate-ca,
// and base64url as the API decodes every binary member.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ca-server/auth/webauthn.h"
#include "gate/bytes.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace webauthn = gate::ca::webauthn;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const webauthn::Bytes challenge(webauthn::kChallengeBytes, 0x2a);
  const webauthn::RelyingParty rp{"gate.example.com", {"https://gate.example.com"}, false};
  (void)webauthn::CheckClientData(text, "webauthn.get", challenge, rp);
  if (auto decoded = gate::Base64UrlDecode(text);
      decoded && gate::Base64UrlEncode(*decoded) != text) {
    __builtin_trap();  // one spelling per value: decode then encode gives it back
  }
  return 0;
}
