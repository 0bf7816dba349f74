#include "ca-server/connectors/oidc_provider.h"

#include <json/json.h>

#include <algorithm>
#include <utility>

#include "gate/json.h"

namespace gate::ca {
namespace {

bool Lists(const Json::Value& doc, const char* field, const char* value) {
  const Json::Value& list = doc[field];
  return std::any_of(list.begin(), list.end(),
                     [&](const Json::Value& v) { return v.isString() && v.asString() == value; });
}

Status Unreachable(std::string_view issuer, const std::string& why) {
  return Unavailable("identity provider " + std::string(issuer) + ": " + why);
}

}  // namespace

Result<std::pair<std::string, std::string>> SplitHttpsUrl(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return Err(InvalidArgument("'" + std::string(url) + "' is not an https:// URL"));
  }
  const std::size_t path = url.find_first_of("/?#", kScheme.size());
  std::string origin(url.substr(0, path));
  std::string target = path == std::string_view::npos ? "/" : std::string(url.substr(path));
  if (origin.size() == kScheme.size() || target.find('#') != std::string::npos ||
      std::any_of(url.begin(), url.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u >= 0x7f;
      })) {
    return Err(InvalidArgument("'" + std::string(url) + "' is not an https:// URL"));
  }
  if (target.front() != '/') target.insert(0, "/");
  return std::make_pair(std::move(origin), std::move(target));
}

Result<OidcProviderMetadata> ParseDiscovery(std::string_view document,
                                            std::string_view issuer_url) {
  auto doc = json::Parse(document, kMaxDiscoveryBytes);
  if (!doc) return Err(doc.error().WithContext("discovery document"));
  OidcProviderMetadata m;
  for (auto [field, out] :
       {std::pair{"issuer", &m.issuer},
        std::pair{"authorization_endpoint", &m.authorization_endpoint},
        std::pair{"token_endpoint", &m.token_endpoint}, std::pair{"jwks_uri", &m.jwks_uri}}) {
    auto v = json::GetString(*doc, field);
    if (!v) return Err(v.error().WithContext("discovery document"));
    *out = *std::move(v);
  }
  if (m.issuer != issuer_url) {
    return Err(InvalidArgument("discovery document is for issuer '" + m.issuer + "', not '" +
                               std::string(issuer_url) + "'"));
  }
  for (const std::string* url : {&m.authorization_endpoint, &m.token_endpoint, &m.jwks_uri}) {
    if (auto split = SplitHttpsUrl(*url); !split) {
      return Err(split.error().WithContext("discovery document"));
    }
  }
  const Json::Value& d = *doc;
  if (d.isMember("response_types_supported") && !Lists(d, "response_types_supported", "code")) {
    return Err(InvalidArgument("the provider does not support the authorization code flow"));
  }
  if (d.isMember("code_challenge_methods_supported") &&
      !Lists(d, "code_challenge_methods_supported", "S256")) {
    return Err(InvalidArgument("the provider does not support PKCE with S256"));
  }
  if (d.isMember("id_token_signing_alg_values_supported") &&
      !Lists(d, "id_token_signing_alg_values_supported", "RS256") &&
      !Lists(d, "id_token_signing_alg_values_supported", "ES256")) {
    return Err(InvalidArgument("the provider signs ID tokens with neither RS256 nor ES256"));
  }
  return m;
}

OidcProvider::OidcProvider(OidcProviderOptions options,
                           std::shared_ptr<const HttpTransport> transport,
                           std::function<std::int64_t()> now)
    : options_(std::move(options)), transport_(std::move(transport)), now_(std::move(now)) {}

Result<HttpRawResponse> OidcProvider::Send(std::string_view url, HttpRawRequest request) const {
  auto split = SplitHttpsUrl(url);
  if (!split) return Err(split.error());
  HttpClientOptions o;
  o.base_url = split->first;
  o.ca_file = options_.ca_file;
  o.timeout = options_.timeout;
  request.target = split->second;
  auto reply = HttpClient(std::move(o), transport_).Send(request);
  if (!reply) return Err(Unreachable(options_.issuer_url, reply.error().message()));
  return reply;
}

Result<OidcProviderMetadata> OidcProvider::Metadata() {
  std::lock_guard<std::mutex> lock(mu_);
  const std::int64_t now = now_();
  if (metadata_ && now - metadata_at_ < options_.cache_ttl.count()) return *metadata_;
  std::string url = options_.issuer_url;
  if (!url.empty() && url.back() == '/') url.pop_back();
  url += "/.well-known/openid-configuration";
  HttpRawRequest req;
  req.method = "GET";
  req.max_response_bytes = kMaxDiscoveryBytes;
  auto reply = Send(url, std::move(req));
  if (!reply) return Err(reply.error());
  if (reply->status != 200) {
    return Err(Unreachable(options_.issuer_url,
                           "discovery answered HTTP " + std::to_string(reply->status)));
  }
  auto parsed = ParseDiscovery(reply->body, options_.issuer_url);
  if (!parsed) return Err(parsed.error().WithContext("identity provider " + options_.issuer_url));
  metadata_ = *parsed;
  metadata_at_ = now;
  return parsed;
}

Result<std::shared_ptr<const KeySet>> OidcProvider::FetchKeys(const std::string& jwks_uri) {
  HttpRawRequest req;
  req.method = "GET";
  req.max_response_bytes = kMaxJwksBytes;
  auto reply = Send(jwks_uri, std::move(req));
  if (!reply) return Err(reply.error());
  if (reply->status != 200) {
    return Err(Unreachable(options_.issuer_url,
                           "jwks_uri answered HTTP " + std::to_string(reply->status)));
  }
  auto keys = KeySet::Parse(reply->body);
  if (!keys) return Err(keys.error().WithContext("identity provider " + options_.issuer_url));
  return keys;
}

Result<std::shared_ptr<const KeySet>> OidcProvider::KeysNewerThan(std::chrono::seconds max_age) {
  auto meta = Metadata();
  if (!meta) return Err(meta.error());
  std::lock_guard<std::mutex> lock(mu_);
  const std::int64_t now = now_();
  if (keys_ && now - keys_at_ < max_age.count()) return keys_;
  auto keys = FetchKeys(meta->jwks_uri);
  if (!keys) return Err(keys.error());
  keys_ = *keys;
  keys_at_ = now;
  return keys_;
}

Result<std::shared_ptr<const KeySet>> OidcProvider::Keys() {
  return KeysNewerThan(options_.cache_ttl);
}

Result<std::shared_ptr<const KeySet>> OidcProvider::RefreshKeys() {
  return KeysNewerThan(options_.refresh_interval);
}

}  // namespace gate::ca
