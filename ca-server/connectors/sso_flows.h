// Logins in progress at an identity provider: what gate-ca must remember
// between sending a browser to the provider and the provider sending it
// back. Each login gets a random `state` (the key it is found by), `nonce`
// (bound into the ID token) and PKCE code verifier (RFC 7636, S256), and a
// binding secret that only the party that started it holds (the browser's
// __Host- cookie, or the CLI's callback secret); the table keeps only the
// binding's SHA-256.
//
// A login is taken at most once (Take removes it whatever the outcome, so a
// replayed state finds nothing), within ttl, and only with its binding.
// The table is bounded (max_pending), so a flood of started logins cannot
// grow memory: beyond it, Begin refuses.
//
// Thread safety: every method may be called from any thread.
#ifndef GATE_CA_CONNECTORS_SSO_FLOWS_H_
#define GATE_CA_CONNECTORS_SSO_FLOWS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "gate/secret.h"
#include "gate/status.h"

namespace gate::ca {

// When the starter shows its binding. A browser shows it at the callback
// (its cookie comes back with the provider's redirect). The CLI's never
// passes through the browser: the login's result is held for it, and it
// shows the binding when it collects that (SsoCliResults), so Take returns
// the binding's hash for that check.
enum class SsoBinding { kAtCallback, kAtCollect };

struct SsoFlowOptions {
  std::chrono::seconds ttl{10 * 60};
  std::size_t max_pending = 10000;
};

// What Begin hands out: state, nonce and code_challenge go to the provider
// in the authorization URL; binding goes to the party that started the
// login (never into a URL).
struct StartedSsoFlow {
  std::string state;           // 43 base64url characters (256 bits)
  std::string nonce;           // likewise
  std::string code_challenge;  // base64url(SHA-256(code_verifier))
  SecretString binding;        // 43 base64url characters
};

// A login found by Take: what the callback needs to finish it.
struct PendingSsoFlow {
  std::string connector;
  std::string nonce;
  SecretString code_verifier;
  // Opaque to the table: what the starter asked for (e.g. the CLI's public
  // key and callback port), carried to the end of the login.
  std::string context;
  std::int64_t started_at = 0;
  SsoBinding binding = SsoBinding::kAtCallback;
  std::string binding_hash;  // hex SHA-256 of the binding
};

class SsoFlows {
 public:
  explicit SsoFlows(SsoFlowOptions options = {}) : options_(options) {}

  // Starts a login through connector at now (unix seconds). Drops expired
  // logins first. ResourceExhausted when max_pending are pending; Internal
  // if the RNG fails.
  Result<StartedSsoFlow> Begin(const std::string& connector, std::string context, std::int64_t now,
                               SsoBinding binding = SsoBinding::kAtCallback);

  // Removes and returns the login with this state if binding is its
  // binding (constant-time compare of hashes; not asked of a kAtCollect
  // login, whose binding the caller checks later) and it has not expired.
  // Unauthenticated("this login is unknown, used or expired; start again")
  // for an unknown or already taken state, a wrong or missing binding, or
  // an expired login; the state is spent in every case.
  Result<PendingSsoFlow> Take(std::string_view state, std::string_view binding, std::int64_t now);

  // The PKCE S256 challenge of a verifier.
  static std::string CodeChallenge(std::string_view code_verifier);

  // The stored form of a binding: lower-case hex SHA-256.
  static std::string BindingHash(std::string_view binding);

  std::size_t pending() const;

 private:
  struct Entry {
    PendingSsoFlow flow;
  };
  void DropExpired(std::int64_t now);

  const SsoFlowOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> flows_;  // by state
};

}  // namespace gate::ca

#endif  // GATE_CA_CONNECTORS_SSO_FLOWS_H_
