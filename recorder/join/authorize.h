// Who may join a live session (docs/recording.md, "Live join"): the default
// JoinAuthorizer the recorder gives its JoinHub.
//
// A joiner is identified by the kernel, never by what it says: from the
// connecting process (SO_PEERCRED), walk up its parents (/proc/<pid>/stat)
// to the nearest recorder: a process whose real, effective and saved uid
// are the recorders' uid and whose /proc/<pid>/exe is the recorder binary
// (same device and inode). That recorder's entry in the run directory
// (session_registry.h) names the Gate user of the joiner's own recorded
// session. The user may join iff the node's policy cache says so
// (policy::MayJoinSessions: not locked, and a role with join_sessions whose
// selector matches this node's labels).
//
// Refused, with PermissionDenied and a reason for the joiner: no recorder
// among the ancestors (not inside a recorded session), a recorder without a
// usable registry entry, the recorder of this very session (joining the
// session you are in would feed its output back into itself), and a user
// the policy does not allow. That includes the session's own user joining
// from another of their sessions: they are held to the same role rule as
// anyone. Failures to read the policy cache or the run directory are other
// codes (Unavailable, ...), with the details for the log.
#ifndef GATE_RECORDER_JOIN_AUTHORIZE_H_
#define GATE_RECORDER_JOIN_AUTHORIZE_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "gate/node_cache.h"
#include "gate/status.h"
#include "recorder/join/join_hub.h"

namespace gate::recorder {

struct AuthorizerConfig {
  // Where recorders register their sessions (recorder.json's run_dir).
  std::string run_dir = "/run/gate/sessions";
  // The node's policy cache (recorder.json's cache_dir), owned by root.
  node::CacheLocation cache;
  // The recorder binary. Default: the binary this process runs, so only
  // another gate-record counts. Tests name some other file to see what
  // happens when no ancestor is a recorder.
  std::string recorder_exe = "/proc/self/exe";
  // The recorders' uid (gate-rec). Default: this process's effective uid.
  std::optional<uid_t> recorder_uid;
  // How many parents to look at before giving up.
  int max_depth = 64;
  // Unix seconds, for lock expiry. Default: time(2).
  std::function<std::int64_t()> now;
};

// Decides one joiner. The Gate user on success.
Result<std::string> AuthorizeJoin(const AuthorizerConfig& config, const Peer& peer);

// AuthorizeJoin bound to config, for JoinHub::Listen. Reads the recorder
// binary's identity once, now: NotFound/PermissionDenied if it cannot.
Result<JoinAuthorizer> MakeDefaultAuthorizer(AuthorizerConfig config);

// The other half of step 1 above: lets other recorders read this
// recorder's /proc/<pid>/exe. The kernel hides it for a process that is not
// dumpable, and a setuid recorder is not, even once it runs as gate-rec
// alone. Call once the recorder dropped to its own uid entirely (and before
// the shell it starts could join anything): FailedPrecondition if the real,
// effective and saved uids (or gids) still differ, changing nothing.
// Otherwise sets RLIMIT_CORE to 0 (a core file must not carry the signing
// key anywhere) and PR_SET_DUMPABLE to 1. The user still cannot trace or
// signal the recorder: its uids are all gate-rec.
Status MakeIdentifiableToOtherRecorders();

}  // namespace gate::recorder

#endif  // GATE_RECORDER_JOIN_AUTHORIZE_H_
