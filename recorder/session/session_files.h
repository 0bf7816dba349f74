// A session's files (docs/recording.md, "Files and users"): the recording
// <spool_dir>/<id>.cast, held with flock(LOCK_SH) while the session lives
// (the uploader ships a file only once nobody holds it), and the live
// registry <run_dir>/<id>.json that `gate status` and joiners read.
//
// Every file operation goes through an Env (gate/env.h), so tests drive a
// full disk, an I/O error or a failed fsync through a FaultEnv.
#ifndef GATE_RECORDER_SESSION_SESSION_FILES_H_
#define GATE_RECORDER_SESSION_SESSION_FILES_H_

#include <json/json.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "gate/env.h"
#include "gate/session_registry.h"
#include "gate/status.h"

namespace gate::recorder {

// A random (version 4) UUID, lower-case, from OpenSSL's CSPRNG.
Result<std::string> NewSessionId();
// True for the canonical lower-case 8-4-4-4-12 hex form: a session id is
// also a file name, so nothing else may pass.
bool IsSessionId(std::string_view id);

// OK if dir is a directory (not a symlink) owned by this euid and not
// writable by group or others; with `private_dir` not accessible by them
// at all. PermissionDenied/NotFound naming the directory and the fix.
Status CheckSessionDir(const std::string& dir, bool private_dir);

// Creates <spool_dir>/<id>.cast through env: O_EXCL, O_NOFOLLOW, mode 0600
// whatever the umask, and takes flock(LOCK_SH) on it, which lasts as long as
// the open file (the writer owns it and closes it at the end). On failure no
// file is left.
Result<std::unique_ptr<WritableFile>> CreateRecordingFile(Env& env, const std::string& spool_dir,
                                                          const std::string& id);
std::string RecordingPath(const std::string& spool_dir, const std::string& id);
// Removes the recording of a session that never started (best effort: a
// failure is logged, and the uploader ships what is left as cut short).
void RemoveRecordingFile(Env& env, const std::string& spool_dir, const std::string& id);

// The live registry entry (LiveSession, LiveSessionPath, ReadLiveSession)
// is defined in gate/live_session.h, for its readers.
// Writes <run_dir>/<id>.json atomically through env (WriteFileAtomicIn),
// mode 0600 whatever the umask: it names who is logged in and on which
// terminal, which is the recorders' business (and root's) only.
Status WriteLiveSession(Env& env, const std::string& run_dir, const LiveSession& s);
void RemoveLiveSession(Env& env, const std::string& run_dir, const std::string& id);

}  // namespace gate::recorder

#endif  // GATE_RECORDER_SESSION_SESSION_FILES_H_
