// Where gate-ca reaches a node's sshd as an SSH client (the browser terminal
// and live join in the browser): the node's NodeRecord::ssh_address, which
// gate-node join records (CanonicalSshAddress) and an admin may change
// (gatectl nodes update --ssh-address).
#ifndef GATE_CA_NODES_SSH_ADDRESS_H_
#define GATE_CA_NODES_SSH_ADDRESS_H_

#include "ca-server/store/node_store.h"
#include "gate/config.h"
#include "gate/status.h"

namespace gate::ca {

// The address to connect to: the stored one, else the node's hostname on
// port 22 (a node that joined before addresses were recorded).
// InvalidArgument if the stored text does not parse (never written so).
Result<HostPort> NodeSshAddress(const NodeRecord& node);

}  // namespace gate::ca

#endif  // GATE_CA_NODES_SSH_ADDRESS_H_
