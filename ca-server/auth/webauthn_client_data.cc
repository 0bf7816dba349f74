// clientDataJSON: the browser-made half of a WebAuthn response
// (webauthn.h).
#include <string>

#include "ca-server/auth/webauthn.h"
#include "gate/bytes.h"
#include "gate/json.h"
#include "gate/secret.h"

namespace gate::ca::webauthn {

Status CheckClientData(std::string_view client_data_json, std::string_view type,
                       const Bytes& challenge, const RelyingParty& rp) {
  if (client_data_json.size() > kMaxClientDataJson) {
    return InvalidArgument("clientDataJSON is larger than 4096 bytes");
  }
  // gate's strict parser: size-capped, depth-limited (jsoncpp throws on
  // deep nesting; json::Parse turns that into an error), objects only.
  Result<Json::Value> parsed = json::Parse(client_data_json, kMaxClientDataJson);
  if (!parsed) return InvalidArgument("clientDataJSON is not a JSON object");
  const Json::Value& data = *parsed;
  const Json::Value& got_type = data["type"];
  const Json::Value& got_challenge = data["challenge"];
  const Json::Value& got_origin = data["origin"];
  if (!got_type.isString() || !got_challenge.isString() || !got_origin.isString()) {
    return InvalidArgument("clientDataJSON lacks type, challenge or origin");
  }
  if (got_type.asString() != type) {
    return Unauthenticated("clientDataJSON type is not " + std::string(type));
  }
  Result<std::string> decoded = Base64UrlDecode(got_challenge.asString());
  const std::string expected(challenge.begin(), challenge.end());
  if (!decoded || challenge.empty() || !ConstantTimeEquals(*decoded, expected)) {
    return Unauthenticated("clientDataJSON challenge is not the one gate-ca issued");
  }
  bool origin_ok = false;
  for (const std::string& origin : rp.origins)
    origin_ok = origin_ok || origin == got_origin.asString();
  if (!origin_ok) return Unauthenticated("clientDataJSON origin is not a configured origin");
  // A response made inside another site's frame is not the user at our page.
  if (const Json::Value& cross = data["crossOrigin"]; cross.isBool() && cross.asBool()) {
    return Unauthenticated("clientDataJSON is from a cross-origin frame");
  }
  return Status::Ok();
}

}  // namespace gate::ca::webauthn
