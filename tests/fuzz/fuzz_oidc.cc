// What an OpenID provider (or whoever answers in its place) sends gate-ca:
// its discovery document, its JWKS, an ID token, and the claims mapped to
// a gate user. Each parser gets the same bytes.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "ca-server/connectors/claims_mapping.h"
#include "ca-server/connectors/id_token.h"
#include "ca-server/connectors/jwks.h"
#include "ca-server/connectors/oidc_provider.h"
#include "gate/json.h"

namespace {

// RFC 7517 appendix A.1's EC key, and an RSA key of 2048 bits, as kid 1 and 2.
constexpr char kJwks[] = R"({"keys": [{"kty": "EC", "crv": "P-256", "kid": "1",
  "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
  "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}]})";

const gate::ca::KeySet& Keys() {
  static const std::shared_ptr<const gate::ca::KeySet> keys = *gate::ca::KeySet::Parse(kJwks);
  return *keys;
}

gate::ConnectorConfig Connector() {
  gate::ConnectorConfig c;
  c.name = "corp";
  c.type = "oidc";
  c.oidc.username_claim = "preferred_username";
  c.oidc.logins_claim = "logins";
  c.oidc.claims_to_roles = {{"groups", "ops", {"access"}}, {"email", "*@example.com", {"dev"}}};
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)gate::ca::ParseDiscovery(in, "https://idp.test");
  (void)gate::ca::SplitHttpsUrl(in);
  (void)gate::ca::KeySet::Parse(in);
  gate::ca::IdTokenExpectations expect;
  expect.issuer = "https://idp.test";
  expect.client_id = "gate";
  expect.nonce = "n";
  expect.now = 1'800'000'000;
  (void)gate::ca::VerifyIdToken(in, Keys(), expect);
  (void)gate::ca::IdTokenKeyId(in);
  if (auto claims = gate::json::Parse(in)) {
    static const gate::ConnectorConfig connector = Connector();
    (void)gate::ca::MapClaims(connector, *claims);
  }
  return 0;
}
