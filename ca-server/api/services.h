// The services the API layer calls. The API translates HTTP+JSON into calls
// on these and back; it holds no SQL and no key material.
#ifndef GATE_CA_API_SERVICES_H_
#define GATE_CA_API_SERVICES_H_

#include <cstdint>
#include <functional>
#include <string>

#include "ca-server/audit/audit.h"
#include "ca-server/auth/authenticator.h"
#include "ca-server/auth/rate_limiter.h"
#include "ca-server/auth/signup.h"
#include "ca-server/issuer/host_issuer.h"
#include "ca-server/issuer/issuer.h"
#include "ca-server/store/store.h"
#include "gate/config.h"
#include "gate/ed25519.h"

namespace gate::ca {

struct Services {
  const Config& config;
  Store& store;
  AuditLog& audit;
  Authenticator& authenticator;
  SignupService& signup;
  Issuer& issuer;
  HostIssuer& host_issuer;
  RateLimiter& auth_limiter;      // per source address: signup, login, node join
  ssh::Ed25519PublicKey user_ca;  // public halves only
  ssh::Ed25519PublicKey host_ca;
  std::function<std::int64_t()> now;  // unix seconds
  // "sha256:<hex>" of the HTTPS certificate's public key (SpkiPinFromCertFile),
  // printed in the gate-node join command so nodes can pin it.
  std::string ca_pin;
  // Whether that certificate is gate-ca's own self-signed one: then a user
  // signing up needs the pin too, and signup replies carry it.
  bool tls_self_signed = false;
  // Runs when a node leaves or is removed, before its row goes: its live
  // uploads will never complete (gate-ca wires SessionIngest's
  // CloseLiveSessions). Empty in tests that have no recordings.
  std::function<Status(const NodeRecord& node, const std::string& source)> node_leaving = nullptr;
};

}  // namespace gate::ca

#endif  // GATE_CA_API_SERVICES_H_
