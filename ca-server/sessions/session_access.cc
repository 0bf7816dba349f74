#include "ca-server/sessions/session_access.h"

#include <algorithm>

#include "gate/policy.h"

namespace gate::ca {

Result<SessionFilter::Visibility> SessionVisibility(Store& store, const UserRecord& user) {
  SessionFilter::Visibility visibility;
  visibility.owner = user.name;
  auto roles = store.ListRoles();
  if (!roles) return Err(roles.error());
  std::vector<const policy::Role*> joiners;
  for (const policy::Role& role : *roles) {
    if (!role.join_sessions) continue;
    if (std::find(user.roles.begin(), user.roles.end(), role.name) != user.roles.end()) {
      joiners.push_back(&role);
    }
  }
  if (joiners.empty()) return visibility;
  auto nodes = store.ListNodes();
  if (!nodes) return Err(nodes.error());
  for (const NodeRecord& node : *nodes) {
    for (const policy::Role* role : joiners) {
      if (policy::LabelsMatch(role->node_labels, node.labels)) {
        visibility.nodes.push_back(node.host_uuid);
        break;
      }
    }
  }
  return visibility;
}

bool MaySee(const SessionFilter::Visibility& visibility, const SessionRecord& session) {
  return session.user == visibility.owner ||
         std::find(visibility.nodes.begin(), visibility.nodes.end(), session.host_uuid) !=
             visibility.nodes.end();
}

Result<SessionRecord> VisibleSession(Store& store, const UserRecord& user, const std::string& id) {
  const Status not_found = NotFound("session " + id + " not found");
  auto session = store.GetSession(id);
  if (!session) {
    return Err(session.error().code() == Code::kNotFound ? not_found : session.error());
  }
  auto visibility = SessionVisibility(store, user);
  if (!visibility) return Err(visibility.error());
  if (!MaySee(*visibility, *session)) return Err(not_found);
  return session;
}

}  // namespace gate::ca
