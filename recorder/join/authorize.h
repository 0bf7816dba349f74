// Who may join a live session (docs/recording.md, "Live join"): the default
// JoinAuthorizer the recorder gives its JoinHub.
//
// A joiner is identified by the kernel, never by what it says: from the
// connecting process (SO_PEERCRED), walk up its parents (/proc/<pid>/stat)
// to the nearest recorder: a process whose real, effective and saved uid
// are all the recorders' uid (gate-rec); the connecting process itself
// counts when it is one (a recorder serving a join request from a
// workstation, session/join_request.h). Only gate-record, which is setuid
// to that uid, can make such a process, and a gate-record refuses to start
// unless sshd started it for a session it authenticated (identity.h), so a
// user cannot put a recorder of their own making above their programs.
// That recorder's entry in the run directory (session_registry.h: only
// gate-rec can write there) names the Gate user of the joiner's own
// recorded session; an entry written before that process started is a
// dead recorder's whose pid was reused. The user may join iff the node's
// policy cache says so (policy::MayJoinSessions: not locked, and a role
// with join_sessions whose selector matches this node's labels).
//
// Nothing here needs to read another process's /proc/<pid>/exe or memory:
// the recorders of different users run as gate-rec but keep their user's
// group, so the kernel would not let one inspect the other (and making
// them inspectable would let them trace each other). /proc/<pid>/stat and
// /proc/<pid>/status are readable by everyone.
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
  // The recorders' uid (gate-rec). Default: this process's effective uid.
  std::optional<uid_t> recorder_uid;
  // How many parents to look at before giving up.
  int max_depth = 64;
  // Unix seconds, for lock expiry. Default: time(2).
  std::function<std::int64_t()> now;
};

// Decides one joiner. The Gate user on success.
Result<std::string> AuthorizeJoin(const AuthorizerConfig& config, const Peer& peer);

// AuthorizeJoin bound to config, for JoinHub::Listen.
JoinAuthorizer MakeDefaultAuthorizer(AuthorizerConfig config);

}  // namespace gate::recorder

#endif  // GATE_RECORDER_JOIN_AUTHORIZE_H_
