// Who may see which recorded sessions (list, details, recording): a user
// sees their own, and every session on a node that one of their roles with
// join_sessions selects (the same roles that let them join it live).
#ifndef GATE_CA_SESSIONS_SESSION_ACCESS_H_
#define GATE_CA_SESSIONS_SESSION_ACCESS_H_

#include "ca-server/store/store.h"
#include "gate/status.h"

namespace gate::ca {

// The sessions user may see, as a store filter: owner = user.name, nodes =
// the host UUIDs of current nodes matched by the selector of a role of the
// user's that exists and has join_sessions. Sessions on nodes that have
// left are visible to their owner only.
Result<SessionFilter::Visibility> SessionVisibility(Store& store, const UserRecord& user);

bool MaySee(const SessionFilter::Visibility& visibility, const SessionRecord& session);

// The session id names, if user may see it; NotFound ("session ID not
// found") alike for sessions that do not exist and those user may not see,
// so ids cannot be probed. Store errors as they are.
Result<SessionRecord> VisibleSession(Store& store, const UserRecord& user, const std::string& id);

}  // namespace gate::ca

#endif  // GATE_CA_SESSIONS_SESSION_ACCESS_H_
