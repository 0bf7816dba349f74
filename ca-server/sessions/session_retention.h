// Retention: removing recordings gate-ca finished receiving before a cutoff
// (`gatectl sessions prune`, docs/recording.md, "Retention"). Live uploads
// are never touched.
#ifndef GATE_CA_SESSIONS_SESSION_RETENTION_H_
#define GATE_CA_SESSIONS_SESSION_RETENTION_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ca-server/audit/audit.h"
#include "ca-server/sessions/recording_files.h"
#include "ca-server/store/session_store.h"
#include "gate/status.h"

namespace gate::ca {

struct PruneResult {
  std::vector<SessionRecord> sessions;  // removed (or, dry run, that would be)
  std::uint64_t bytes = 0;              // their recordings' sizes
  bool more = false;                    // more than `limit` matched: call again
};

// Removes at most limit completed sessions whose completed_at is before
// `before`, oldest first: the file, then the index row (so an interrupted
// run leaves nothing unreachable and can run again), each audited as
// session.delete by source. dry_run: only lists them. Stops at the first
// error, returning it (what was removed before stays removed and audited).
Result<PruneResult> PruneSessions(SessionStore& store, RecordingFiles& files, AuditLog& audit,
                                  std::int64_t before, std::size_t limit, bool dry_run,
                                  std::int64_t now, const std::string& source);

}  // namespace gate::ca

#endif  // GATE_CA_SESSIONS_SESSION_RETENTION_H_
