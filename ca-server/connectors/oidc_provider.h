// One OpenID provider as gate-ca sees it: its discovery document
// (/.well-known/openid-configuration) and its signing keys (jwks_uri),
// fetched over verified TLS, cached, and the keys fetched again when a
// token names a key we do not hold (rotation), at most once per
// refresh_interval so a flood of forged kids cannot make us hammer the IdP.
//
// Thread safety: every method may be called from any thread.
#ifndef GATE_CA_CONNECTORS_OIDC_PROVIDER_H_
#define GATE_CA_CONNECTORS_OIDC_PROVIDER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "ca-server/connectors/jwks.h"
#include "gate/http_client.h"
#include "gate/http_transport.h"
#include "gate/status.h"

namespace gate::ca {

// A discovery document larger than this is refused.
inline constexpr std::size_t kMaxDiscoveryBytes = 64 * 1024;

struct OidcProviderMetadata {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string jwks_uri;
};

// Parses a discovery document for a provider configured with issuer_url.
// InvalidArgument when it is not JSON, when its issuer is not exactly
// issuer_url (OIDC Discovery 4.3: a document answering for another issuer
// must not be used), when an endpoint is missing or not https, when the
// code flow or PKCE S256 is listed as unsupported, or when neither RS256
// nor ES256 is among id_token_signing_alg_values_supported.
Result<OidcProviderMetadata> ParseDiscovery(std::string_view document, std::string_view issuer_url);

// "https://host:port" and "/path?query" of an absolute https URL (for
// HttpClient, which takes a base and a target). InvalidArgument otherwise.
Result<std::pair<std::string, std::string>> SplitHttpsUrl(std::string_view url);

struct OidcProviderOptions {
  std::string issuer_url;
  std::string ca_file;  // empty: the system's CAs
  std::chrono::milliseconds timeout{10000};
  // Metadata and keys are fetched again after this long anyway.
  std::chrono::seconds cache_ttl{3600};
  // The least time between two key fetches forced by an unknown kid.
  std::chrono::seconds refresh_interval{60};
};

class OidcProvider {
 public:
  // transport carries the HTTPS requests (CurlHttpTransport() in gate-ca);
  // now: unix seconds.
  OidcProvider(OidcProviderOptions options, std::shared_ptr<const HttpTransport> transport,
               std::function<std::int64_t()> now);

  // The cached metadata, fetched first if absent or older than cache_ttl.
  // Unavailable ("identity provider https://...: cannot reach ...") when
  // the provider cannot be reached or answers other than 200; the
  // ParseDiscovery errors otherwise. A failure keeps nothing.
  Result<OidcProviderMetadata> Metadata();

  // The cached keys (fetched like Metadata).
  Result<std::shared_ptr<const KeySet>> Keys();

  // After a token named a key the cached set lacks: fetches the keys again
  // unless the last fetch was less than refresh_interval ago, and returns
  // the set to verify with (new or cached).
  Result<std::shared_ptr<const KeySet>> RefreshKeys();

  // GETs or POSTs an absolute https URL of this provider with the
  // provider's TLS settings; what the token endpoint exchange uses.
  Result<HttpRawResponse> Send(std::string_view url, HttpRawRequest request) const;

 private:
  Result<std::shared_ptr<const KeySet>> FetchKeys(const std::string& jwks_uri);
  // The cached keys if fetched less than max_age ago, else fetched now.
  Result<std::shared_ptr<const KeySet>> KeysNewerThan(std::chrono::seconds max_age);

  const OidcProviderOptions options_;
  const std::shared_ptr<const HttpTransport> transport_;
  const std::function<std::int64_t()> now_;
  std::mutex mu_;
  std::optional<OidcProviderMetadata> metadata_;
  std::int64_t metadata_at_ = 0;
  std::shared_ptr<const KeySet> keys_;
  std::int64_t keys_at_ = 0;
};

}  // namespace gate::ca

#endif  // GATE_CA_CONNECTORS_OIDC_PROVIDER_H_
