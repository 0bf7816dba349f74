// A live join asked for over ssh (docs/recording.md, "From a workstation"):
// gate join on a workstation runs `ssh NODE gate join --mode MODE ID`. On a
// recording node sshd hands that command to gate-record (ForceCommand, or
// the command= option gate-principals prints) as SSH_ORIGINAL_COMMAND, and
// the recorder serves it itself instead of recording a shell that would run
// gate join: the joiner is the Gate user of the certificate sshd verified
// (identity.h), and the node needs no gate program.
#ifndef GATE_RECORDER_SESSION_JOIN_REQUEST_H_
#define GATE_RECORDER_SESSION_JOIN_REQUEST_H_

#include <optional>
#include <string>
#include <string_view>

#include "gate/env.h"
#include "gate/join_protocol.h"
#include "recorder/session/identity.h"
#include "recorder/session/privileges.h"

namespace gate::recorder {

struct JoinRequest {
  std::string session_id;
  JoinMode mode = JoinMode::kObserver;
};

// The request in an ssh command line, or nullopt for any other command.
// Exactly "PROG join --mode MODE ID", one space apart: PROG "gate" or an
// absolute path ending in "/gate", MODE observer or peer, ID a session id.
std::optional<JoinRequest> ParseJoinRequest(std::string_view command);

struct JoinRequestContext {
  Env* env = nullptr;
  std::string run_dir;    // recorder.json's run_dir (checked by the caller)
  std::string host_uuid;  // this node
  Identity identity;      // proven: sshd started this recorder (identity.h)
  ProcessIds ids;         // as the recorder started
};

// Serves one request on sshd's stdin/stdout/stderr and returns the exit
// status (gate/exit_code.h; the same as gate join's on the node). First
// drops to the recorders' uid entirely (when setuid), then registers this
// process in the run directory (a "join" entry naming the Gate user and no
// socket), so that the joined session's recorder finds who is asking the
// way it finds anyone (authorize.h), joins, relays, and removes the entry.
// Refusals are printed ("gate join: REASON") and logged.
int ServeJoinRequest(const JoinRequestContext& context, const JoinRequest& request);

}  // namespace gate::recorder

#endif  // GATE_RECORDER_SESSION_JOIN_REQUEST_H_
