// Single sign-on logins of the CLI, finished at gate-ca and waiting for the
// CLI to collect them. The provider sends the browser back to gate-ca,
// which finishes the login and sends the browser on to the CLI's one-shot
// listener on 127.0.0.1 with a one-time code; the CLI then collects the
// result with that code and the secret it got when it started the login
// (SsoFlows' binding, never seen by the browser). A code is good once
// (every attempt spends it), for ttl, and only with the login's secret.
// The table is bounded.
//
// Thread safety: every method may be called from any thread.
#ifndef GATE_CA_CONNECTORS_SSO_CLI_RESULTS_H_
#define GATE_CA_CONNECTORS_SSO_CLI_RESULTS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "gate/status.h"

namespace gate::ca {

// A finished login, as the CLI will collect it.
struct SsoCliResult {
  std::string user;
  std::string connector;
  std::string public_key;  // the key the CLI asked a certificate for
  std::int64_t ttl_seconds = 0;
  std::string binding_hash;  // PendingSsoFlow::binding_hash
  std::int64_t finished_at = 0;
};

class SsoCliResults {
 public:
  explicit SsoCliResults(std::chrono::seconds ttl = std::chrono::seconds(120),
                         std::size_t max_pending = 1000)
      : ttl_(ttl), max_pending_(max_pending) {}

  // Holds result; returns its one-time code (43 base64url characters).
  // ResourceExhausted when max_pending are waiting; Internal if the RNG fails.
  Result<std::string> Park(SsoCliResult result, std::int64_t now);

  // Removes and returns the result with this code if secret is its login's
  // binding and it is not older than ttl. Unauthenticated("this login is
  // unknown, used or expired; log in again") otherwise; the code is spent
  // either way.
  Result<SsoCliResult> Collect(std::string_view code, std::string_view secret, std::int64_t now);

 private:
  const std::chrono::seconds ttl_;
  const std::size_t max_pending_;
  std::mutex mu_;
  std::map<std::string, SsoCliResult, std::less<>> results_;
};

}  // namespace gate::ca

#endif  // GATE_CA_CONNECTORS_SSO_CLI_RESULTS_H_
