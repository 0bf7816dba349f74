#include "ca-server/connectors/sso_flows.h"

#include <utility>

#include "gate/bytes.h"

namespace gate::ca {
namespace {

constexpr std::string_view kUnknownFlow = "this login is unknown, used or expired; start again";

Result<std::string> RandomToken() {
  auto raw = RandomBytes(32);
  if (!raw) return Err(raw.error());
  return Base64UrlEncode(*raw);
}

}  // namespace

std::string SsoFlows::BindingHash(std::string_view binding) { return HexEncode(Sha256(binding)); }

std::string SsoFlows::CodeChallenge(std::string_view code_verifier) {
  return Base64UrlEncode(Sha256(code_verifier));
}

void SsoFlows::DropExpired(std::int64_t now) {
  for (auto it = flows_.begin(); it != flows_.end();) {
    if (now - it->second.flow.started_at > options_.ttl.count()) {
      it = flows_.erase(it);
    } else {
      ++it;
    }
  }
}

Result<StartedSsoFlow> SsoFlows::Begin(const std::string& connector, std::string context,
                                       std::int64_t now, SsoBinding binding_mode) {
  auto state = RandomToken();
  auto nonce = RandomToken();
  auto verifier = RandomToken();
  auto binding = RandomToken();
  for (const auto* r : {&state, &nonce, &verifier, &binding}) {
    if (!*r) return Err(r->error());
  }
  StartedSsoFlow out{*state, *nonce, CodeChallenge(*verifier), SecretString(*binding)};
  Entry entry{PendingSsoFlow{connector, *nonce, SecretString(*verifier), std::move(context), now,
                             binding_mode, BindingHash(*binding)}};
  Wipe(verifier->data(), verifier->size());
  Wipe(binding->data(), binding->size());

  std::lock_guard<std::mutex> lock(mu_);
  DropExpired(now);
  if (flows_.size() >= options_.max_pending) {
    return Err(ResourceExhausted("too many logins in progress; try again in a few minutes"));
  }
  flows_.emplace(out.state, std::move(entry));
  return out;
}

Result<PendingSsoFlow> SsoFlows::Take(std::string_view state, std::string_view binding,
                                      std::int64_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = flows_.find(state);
  if (it == flows_.end()) return Err(Unauthenticated(std::string(kUnknownFlow)));
  Entry entry = std::move(it->second);
  flows_.erase(it);
  const bool bound =
      entry.flow.binding == SsoBinding::kAtCollect ||
      (!binding.empty() && ConstantTimeEquals(BindingHash(binding), entry.flow.binding_hash));
  if (!bound || now - entry.flow.started_at > options_.ttl.count()) {
    return Err(Unauthenticated(std::string(kUnknownFlow)));
  }
  return std::move(entry.flow);
}

std::size_t SsoFlows::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return flows_.size();
}

}  // namespace gate::ca
