// Finding recorded sessions in the live registry the recorders keep in their
// run directory (docs/recording.md, "Files and users"): <run_dir>/<id>.json,
// {"session_id", "user", "login", "node", "recorder_pid", "started_at",
// "socket", "mode", "tty", "cert_serial"}. Only the recorders' uid can write
// there, so a file is trusted only if that uid owns it and nobody else may
// write it. The join authorizer finds the session a process belongs to;
// gate-node lists them all to end those a lock covers.
#ifndef GATE_SESSION_REGISTRY_H_
#define GATE_SESSION_REGISTRY_H_

#include <json/json.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gate/live_session.h"
#include "gate/status.h"

namespace gate::recorder {

// One registry entry (LiveSession) is defined in gate/live_session.h.

struct RegisteredSession {
  std::string session_id;
  std::string user;  // Gate user, a valid user name
  std::string login;
  pid_t recorder_pid = 0;
  std::uint64_t cert_serial = 0;  // 0 in an entry that does not say
};

struct RegistryQuery {
  std::string run_dir;
  uid_t owner = 0;  // the recorders' uid
  pid_t recorder_pid = 0;
  // The recorder process's start (unix seconds). An entry written before
  // it (older than not_before - 2 s) is a dead recorder's whose pid was
  // reused, and is ignored.
  std::int64_t not_before = 0;
};

// The one entry naming query.recorder_pid. The run directory must be a
// directory owned by owner and not writable by group or others
// (PermissionDenied otherwise). Files that are not <uuid>.json, not owned
// by owner, group/world-writable, symlinks, unparsable or stale are
// skipped (each logged). NotFound if no entry names the pid;
// FailedPrecondition if more than one does.
Result<RegisteredSession> FindRegisteredSession(const RegistryQuery& query);

// A trusted entry and when it was written.
struct ListedSession {
  RegisteredSession session;
  std::int64_t written_at = 0;  // the file's mtime, unix seconds
};

// Every trusted entry in the run directory (same checks and logging as
// FindRegisteredSession, without the pid and staleness filters: the caller
// matches each entry against its recorder process with EntryPredates).
// PermissionDenied for an unsafe run directory, Unavailable if it cannot be
// listed.
Result<std::vector<ListedSession>> ListRegisteredSessions(const std::string& run_dir, uid_t owner);

// True if an entry written at written_at is older than a recorder process
// that started at process_started_at (with the slack the two clocks need):
// the entry is then a dead recorder's whose pid was reused.
bool EntryPredates(std::int64_t written_at, std::int64_t process_started_at);

// The parse of one entry: strict about the types of the fields it uses
// (session_id a UUID, user a valid user name, login a string, recorder_pid
// a positive integer, cert_serial if present a canonical decimal string);
// other fields are the recorder's business.
Result<RegisteredSession> ParseRegistryEntry(std::string_view text);

}  // namespace gate::recorder

#endif  // GATE_SESSION_REGISTRY_H_
