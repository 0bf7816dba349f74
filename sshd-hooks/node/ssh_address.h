// Where gate-ca reaches this node's sshd as an SSH client (terminals and
// live joins in the browser): what gate-node join registers.
#ifndef GATE_SSHD_HOOKS_NODE_SSH_ADDRESS_H_
#define GATE_SSHD_HOOKS_NODE_SSH_ADDRESS_H_

#include <map>
#include <string>

namespace gate::hooks {

// The default from `sshd -T` (RunSshdT's map): sshd's first listen address
// when it is one specific address (as on a host that listens on 10.0.0.5
// only), else hostname on sshd's first port (22 if sshd printed none).
std::string DefaultSshAddress(const std::map<std::string, std::string>& sshd_settings,
                              const std::string& hostname);

}  // namespace gate::hooks

#endif  // GATE_SSHD_HOOKS_NODE_SSH_ADDRESS_H_
