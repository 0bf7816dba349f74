// What a user may learn about the cluster's nodes: the nodes they may log
// into, with their labels, the logins granted there, and the names their
// host certificates certify (GET /v1/nodes, which `gate ls` prints and
// `gate login` scopes the client's ssh config and known_hosts to).
#ifndef GATE_CA_NODES_NODE_DIRECTORY_H_
#define GATE_CA_NODES_NODE_DIRECTORY_H_

#include <string>
#include <vector>

#include "ca-server/store/store.h"
#include "gate/status.h"

namespace gate::ca {

struct NodeLogins {
  NodeRecord node;
  std::vector<std::string> logins;  // policy::LoginsOnNode, never empty
};

struct NodeDirectory {
  // The current nodes where the user has at least one login, by hostname.
  std::vector<NodeLogins> reachable;
  // Every current node's hostname and host principals, deduplicated: the
  // names the cluster's host CA vouches for, whoever may log in there.
  std::vector<std::string> host_names;
};

// The directory as user sees it. The user's lock is the caller's to check
// (a locked user's request never gets here). Store errors are returned as
// they are.
Result<NodeDirectory> NodesForUser(Store& store, const UserRecord& user);

}  // namespace gate::ca

#endif  // GATE_CA_NODES_NODE_DIRECTORY_H_
