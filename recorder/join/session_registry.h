// Finding the recorded session a process belongs to, from the live registry
// the recorders keep in their run directory (docs/recording.md, "Files and
// users"): <run_dir>/<id>.json, {"session_id", "user", "login", "node",
// "recorder_pid", "started_at", "socket", "mode", "tty"}. Only the
// recorders' uid can write there, so a file is trusted only if that uid
// owns it and nobody else may write it.
#ifndef GATE_RECORDER_JOIN_SESSION_REGISTRY_H_
#define GATE_RECORDER_JOIN_SESSION_REGISTRY_H_

#include <json/json.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "gate/live_session.h"
#include "gate/status.h"

namespace gate::recorder {

// One registry entry (LiveSession) is defined in gate/live_session.h.

struct RegisteredSession {
  std::string session_id;
  std::string user;  // Gate user, a valid user name
  std::string login;
  pid_t recorder_pid = 0;
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

// The parse of one entry: strict about the types of the fields it uses
// (session_id a UUID, user a valid user name, login a string, recorder_pid
// a positive integer); other fields are the recorder's business.
Result<RegisteredSession> ParseRegistryEntry(std::string_view text);

}  // namespace gate::recorder

#endif  // GATE_RECORDER_JOIN_SESSION_REGISTRY_H_
