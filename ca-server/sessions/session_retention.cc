#include "ca-server/sessions/session_retention.h"

#include <string>

namespace gate::ca {

Result<PruneResult> PruneSessions(SessionStore& store, RecordingFiles& files, AuditLog& audit,
                                  std::int64_t before, std::size_t limit, bool dry_run,
                                  std::int64_t now, const std::string& source) {
  // One more than asked tells whether another call has work to do.
  auto due = store.ListSessionsCompletedBefore(before, limit + 1);
  if (!due) return Err(due.error());
  PruneResult result;
  result.more = due->size() > limit;
  if (result.more) due->resize(limit);
  for (SessionRecord& session : *due) {
    if (!dry_run) {
      GATE_RETURN_IF_ERROR(files.Remove(session.id));
      GATE_RETURN_IF_ERROR(store.DeleteSession(session.id));
      audit.Record({now, "session.delete", session.user, source, true,
                    "session " + session.id + " " + session.login + "@" + session.node_name + ", " +
                        std::to_string(session.size) + " bytes, completed at " +
                        std::to_string(session.completed_at) + " (retention)"});
    }
    result.bytes += static_cast<std::uint64_t>(session.size);
    result.sessions.push_back(std::move(session));
  }
  return result;
}

}  // namespace gate::ca
