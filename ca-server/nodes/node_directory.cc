#include "ca-server/nodes/node_directory.h"

#include <algorithm>

#include "gate/policy.h"

namespace gate::ca {

Result<NodeDirectory> NodesForUser(Store& store, const UserRecord& user) {
  auto roles = store.ListRoles();
  if (!roles) return Err(roles.error());
  auto nodes = store.ListNodes();
  if (!nodes) return Err(nodes.error());
  const policy::User who{user.name, user.logins, user.roles};
  NodeDirectory out;
  auto add_name = [&out](const std::string& name) {
    if (std::find(out.host_names.begin(), out.host_names.end(), name) == out.host_names.end()) {
      out.host_names.push_back(name);
    }
  };
  for (NodeRecord& node : *nodes) {
    add_name(node.hostname);
    for (const std::string& p : node.principals) add_name(p);
    std::vector<std::string> logins = policy::LoginsOnNode(who, *roles, node.labels);
    if (logins.empty()) continue;
    out.reachable.push_back({std::move(node), std::move(logins)});
  }
  return out;
}

}  // namespace gate::ca
