// For tests of the front end's services: the signer's own SignerService,
// in process, over fresh CA keys, with copies of the keys for tests that
// sign something themselves (a certificate a node presents, say).
#ifndef GATE_TESTS_UNIT_CA_SERVER_SIGNER_TEST_SUPPORT_H_
#define GATE_TESTS_UNIT_CA_SERVER_SIGNER_TEST_SUPPORT_H_

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ca-server/signer/ca_keys.h"
#include "ca-server/signer/signer_service.h"
#include "ca-server/store/store.h"
#include "gate/certificate.h"
#include "gate/ed25519.h"
#include "gate/policy.h"

namespace gate::testing {

// Two signers over one fresh key.
inline std::pair<std::unique_ptr<ssh::Signer>, std::unique_ptr<ssh::Signer>> TwinSigners() {
  auto key = ssh::Ed25519PrivateKey::Generate();
  const SecretBytes seed = key->Seed();
  auto twin = ssh::Ed25519PrivateKey::FromSeed(
      std::string_view(reinterpret_cast<const char*>(seed.data()), seed.size()));
  return {std::make_unique<ssh::LocalSigner>(std::move(*key)),
          std::make_unique<ssh::LocalSigner>(std::move(*twin))};
}

// A SignerService over fresh keys; *user_ca and *host_ca are set to
// signers over the same keys.
inline std::unique_ptr<ca::SignerService> NewSignerService(ca::Store& store,
                                                           std::function<std::int64_t()> now,
                                                           std::unique_ptr<ssh::Signer>* user_ca,
                                                           std::unique_ptr<ssh::Signer>* host_ca,
                                                           ca::SignerOptions options = {}) {
  auto [user, user_copy] = TwinSigners();
  auto [host, host_copy] = TwinSigners();
  *user_ca = std::move(user_copy);
  *host_ca = std::move(host_copy);
  ca::CaKeys keys;
  keys.user = std::move(user);
  keys.host = std::move(host);
  return std::make_unique<ca::SignerService>(options, std::move(keys), store, std::move(now));
}

// A role with these logins and limits.
inline policy::Role Role(const std::string& name, std::vector<std::string> logins,
                         std::chrono::seconds max_ttl = {}, bool pty = true, bool port = true,
                         bool agent = true) {
  policy::Role role;
  role.name = name;
  role.logins = std::move(logins);
  role.max_ttl = max_ttl;
  role.permit_pty = pty;
  role.permit_port_forwarding = port;
  role.permit_agent_forwarding = agent;
  return role;
}

// Registers node host_uuid with host key key at now, as a join does (the
// signer signs host certificates only for a registered node's key).
// Its approved host names are principals.
inline void RegisterNode(ca::Store& store, const std::string& host_uuid,
                         const ssh::Ed25519PublicKey& key, std::int64_t now,
                         std::vector<std::string> principals = {"db-1", "10.0.0.5"}) {
  ca::NodeRecord node;
  node.host_uuid = host_uuid;
  node.hostname = "db-1";
  node.principals = std::move(principals);
  node.host_key = key.AuthorizedKey();
  node.secret_hash = std::string(64, 'b');
  node.joined_at = now;
  ASSERT_TRUE(store.CreateNode(node).ok());
}

}  // namespace gate::testing

#endif  // GATE_TESTS_UNIT_CA_SERVER_SIGNER_TEST_SUPPORT_H_
