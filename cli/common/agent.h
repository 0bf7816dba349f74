// Talking to the user's ssh-agent ($SSH_AUTH_SOCK), so plain `ssh` finds the
// gate certificate without any configuration.
#ifndef GATE_CLI_COMMON_AGENT_H_
#define GATE_CLI_COMMON_AGENT_H_

#include <cstdint>
#include <string>

#include "gate/certificate.h"
#include "gate/ed25519.h"
#include "gate/status.h"

namespace gate::cli {

// Adds key + certificate with a lifetime constraint (the agent forgets them
// after `lifetime_seconds`). Unavailable if there is no agent.
Status AddToAgent(const std::string& socket_path, const ssh::Ed25519PrivateKey& key,
                  const ssh::Certificate& cert, std::uint32_t lifetime_seconds,
                  const std::string& comment);

// Removes the certificate identity; OK if the agent did not hold it.
Status RemoveFromAgent(const std::string& socket_path, const ssh::Certificate& cert);

}  // namespace gate::cli

#endif  // GATE_CLI_COMMON_AGENT_H_
