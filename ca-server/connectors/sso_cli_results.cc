#include "ca-server/connectors/sso_cli_results.h"

#include <utility>

#include "ca-server/connectors/sso_flows.h"
#include "gate/bytes.h"
#include "gate/secret.h"

namespace gate::ca {

Result<std::string> SsoCliResults::Park(SsoCliResult result, std::int64_t now) {
  auto raw = RandomBytes(32);
  if (!raw) return Err(raw.error());
  std::string code = Base64UrlEncode(*raw);
  result.finished_at = now;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = results_.begin(); it != results_.end();) {
    it = now - it->second.finished_at > ttl_.count() ? results_.erase(it) : std::next(it);
  }
  if (results_.size() >= max_pending_) {
    return Err(ResourceExhausted("too many logins waiting for their CLI; try again in a minute"));
  }
  results_.emplace(code, std::move(result));
  return code;
}

Result<SsoCliResult> SsoCliResults::Collect(std::string_view code, std::string_view secret,
                                            std::int64_t now) {
  const Status unknown = Unauthenticated("this login is unknown, used or expired; log in again");
  std::lock_guard<std::mutex> lock(mu_);
  auto it = results_.find(code);
  if (it == results_.end()) return Err(unknown);
  SsoCliResult result = std::move(it->second);
  results_.erase(it);
  if (secret.empty() || !ConstantTimeEquals(SsoFlows::BindingHash(secret), result.binding_hash) ||
      now - result.finished_at > ttl_.count()) {
    return Err(unknown);
  }
  return result;
}

}  // namespace gate::ca
