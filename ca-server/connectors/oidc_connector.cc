#include "ca-server/connectors/oidc_connector.h"

#include <utility>

#include "gate/bytes.h"
#include "gate/json.h"
#include "gate/secure_file.h"

namespace gate::ca {
namespace {

// Client secrets are short; a big file is a mistake.
constexpr std::size_t kMaxClientSecretBytes = 4096;

std::string Join(const std::vector<std::string>& items, char sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

// RFC 6749 2.3.1: client_secret_basic's id and secret are form-encoded
// before they are joined with ':' and base64'd.
std::string FormEscape(std::string_view s) { return PercentEncode(s); }

OidcProviderOptions ProviderOptions(const OidcConnectorConfig& o) {
  OidcProviderOptions p;
  p.issuer_url = o.issuer_url;
  p.ca_file = o.ca_file;
  return p;
}

tl::unexpected<IdTokenError> Refuse(Status status) {
  return tl::unexpected<IdTokenError>(IdTokenError{IdTokenProblem::kMalformed, std::move(status)});
}

}  // namespace

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += FormEscape(name);
    out += '=';
    out += FormEscape(value);
  }
  return out;
}

OidcConnector::OidcConnector(ConnectorConfig config, SecretString client_secret,
                             std::shared_ptr<const HttpTransport> transport,
                             std::function<std::int64_t()> now)
    : config_(std::move(config)),
      client_secret_(std::move(client_secret)),
      provider_(ProviderOptions(config_.oidc), std::move(transport), now),
      now_(std::move(now)) {}

Result<std::string> OidcConnector::Issuer() {
  auto meta = provider_.Metadata();
  if (!meta) return Err(meta.error());
  return meta->issuer;
}

Result<std::string> OidcConnector::AuthorizationUrl(const StartedSsoFlow& flow) {
  auto meta = provider_.Metadata();
  if (!meta) return Err(meta.error());
  const OidcConnectorConfig& o = config_.oidc;
  std::vector<std::pair<std::string, std::string>> q = {
      {"response_type", "code"},
      {"client_id", o.client_id},
      {"redirect_uri", o.redirect_url},
      {"scope", Join(o.scope, ' ')},
      {"state", flow.state},
      {"nonce", flow.nonce},
      {"code_challenge", flow.code_challenge},
      {"code_challenge_method", "S256"},
  };
  if (!o.acr_values.empty()) q.emplace_back("acr_values", Join(o.acr_values, ' '));
  if (!o.prompt.empty()) q.emplace_back("prompt", o.prompt);
  const std::string& endpoint = meta->authorization_endpoint;
  return endpoint + (endpoint.find('?') == std::string::npos ? "?" : "&") + FormEncode(q);
}

tl::expected<VerifiedIdToken, IdTokenError> OidcConnector::Exchange(std::string_view code,
                                                                    const PendingSsoFlow& flow) {
  auto meta = provider_.Metadata();
  if (!meta) return Refuse(meta.error());
  const OidcConnectorConfig& o = config_.oidc;
  std::vector<std::pair<std::string, std::string>> form = {
      {"grant_type", "authorization_code"},
      {"code", std::string(code)},
      {"redirect_uri", o.redirect_url},
      {"code_verifier", std::string(flow.code_verifier.view())},
  };
  HttpRawRequest req;
  req.method = "POST";
  req.content_type = "application/x-www-form-urlencoded";
  req.max_response_bytes = kMaxTokenReplyBytes;
  if (o.token_endpoint_auth == TokenEndpointAuth::kClientSecretPost) {
    form.emplace_back("client_id", o.client_id);
    form.emplace_back("client_secret", std::string(client_secret_.view()));
  } else {
    SecretString credentials(FormEscape(o.client_id) + ":" + FormEscape(client_secret_.view()));
    req.headers.emplace_back("Authorization", "Basic " + Base64Encode(credentials.view()));
  }
  req.body = FormEncode(form);
  auto reply = provider_.Send(meta->token_endpoint, std::move(req));
  if (!reply) return Refuse(reply.error());
  auto body = json::Parse(reply->body, kMaxTokenReplyBytes);
  if (reply->status != 200) {
    std::string why = "HTTP " + std::to_string(reply->status);
    if (body && (*body)["error"].isString()) why = (*body)["error"].asString();
    return Refuse(Unauthenticated("the identity provider refused the login code (" + why + ")"));
  }
  if (!body || !(*body)["id_token"].isString()) {
    return Refuse(Unauthenticated("the identity provider's token reply has no id_token"));
  }
  const std::string token = (*body)["id_token"].asString();
  IdTokenExpectations expect;
  expect.issuer = meta->issuer;
  expect.client_id = o.client_id;
  expect.nonce = flow.nonce;
  expect.acr_values = o.acr_values;
  expect.now = now_();
  auto keys = provider_.Keys();
  if (!keys) return Refuse(keys.error());
  auto verified = VerifyIdToken(token, **keys, expect);
  if (!verified && verified.error().problem == IdTokenProblem::kUnknownKey) {
    // The provider may have rotated its keys since we fetched them.
    auto fresh = provider_.RefreshKeys();
    if (!fresh) return Refuse(fresh.error());
    verified = VerifyIdToken(token, **fresh, expect);
  }
  return verified;
}

Result<std::unique_ptr<Connectors>> Connectors::Load(const AuthenticationConfig& auth,
                                                     std::shared_ptr<const HttpTransport> transport,
                                                     std::function<std::int64_t()> now,
                                                     const std::vector<uid_t>& secret_owners) {
  auto out = std::make_unique<Connectors>();
  FilePolicy policy;
  policy.allowed_owners = secret_owners;
  policy.secret = true;
  policy.max_size = kMaxClientSecretBytes;
  for (const ConnectorConfig& c : auth.connectors) {
    auto secret = ReadSecureFile(c.oidc.client_secret_file, policy);
    if (!secret) return Err(secret.error().WithContext("connector " + c.name + " client secret"));
    std::string text(secret->view());
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (text.empty()) {
      return Err(InvalidArgument("connector " + c.name + ": client secret file " +
                                 c.oidc.client_secret_file + " is empty"));
    }
    SecretString client_secret(text);
    Wipe(text.data(), text.size());
    out->names_.push_back(c.name);
    out->by_name_.emplace(
        c.name, std::make_unique<OidcConnector>(c, std::move(client_secret), transport, now));
  }
  return out;
}

OidcConnector* Connectors::Find(std::string_view name) {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second.get();
}

}  // namespace gate::ca
