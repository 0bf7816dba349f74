#include "ca-server/nodes/ssh_address.h"

namespace gate::ca {

Result<HostPort> NodeSshAddress(const NodeRecord& node) {
  if (node.ssh_address.empty()) return HostPort{node.hostname, kDefaultSshPort};
  return ParseHostPort(node.ssh_address);
}

}  // namespace gate::ca
