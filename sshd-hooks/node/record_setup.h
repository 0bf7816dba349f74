// What `gate-node record on|off` and `gate-node join --record` do, and what
// `gate-node leave` undoes (docs/recording.md, "Turning recording on").
#ifndef GATE_SSHD_HOOKS_NODE_RECORD_SETUP_H_
#define GATE_SSHD_HOOKS_NODE_RECORD_SETUP_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gate/http_client.h"
#include "gate/node_state.h"
#include "gate/recorder_settings.h"
#include "gate/status.h"
#include "sshd-hooks/node/effective_config.h"
#include "sshd-hooks/node/node_flags.h"
#include "sshd-hooks/node/record_state.h"
#include "sshd-hooks/principals/drop_in.h"

namespace gate::node {

struct RecordOptions {
  bool all_sessions = true;  // ForceCommand; false: only roles with record_sessions
  bool record_input = false;
  bool record_exec_output = false;
  std::int64_t flush_interval_ms = 100;
  std::uint64_t join_history_bytes = recorder::kDefaultJoinHistoryBytes;
};

// Everything that can be checked before anything changes: the recorder
// paths, the flush interval, the join history, and the recorder binary (present, in
// root-owned directories; EnsureRecorderExecutable's rules without the
// change). InvalidArgument/NotFound/FailedPrecondition naming the flag.
Status CheckRecordFlags(const NodePaths& paths, const RecordOptions& options);

// DATA_DIR/record.json, or nullopt if recording was never set up here.
Result<std::optional<hooks::RecordState>> LoadRecordState(const NodePaths& paths);

// The drop-in this node should have: the path flags, node's stale-cache
// rule, plus the recorder and its ForceCommand from `record` when given.
hooks::DropInSettings NodeDropIn(const NodePaths& paths, const NodeState& node,
                                 const hooks::RecordState* record);

// What sshd really runs with on this node, against the drop-in it should
// have (NodeDropIn with record.json): hooks::CheckEffectiveConfig. The
// drop-in is stored in *drop_in when given. record.json's errors as they
// are; sshd -T's with context "sshd -T".
Result<hooks::EffectiveConfig> CheckNodeSshd(const NodePaths& paths, const NodeState& node,
                                             hooks::DropInSettings* drop_in = nullptr);

// OK if the drop-in on disk is exactly what join (or the last record on|off)
// wrote with these flags and `previous`: a record command rewrites the file
// from the flags, and must not silently change what a differently-flagged
// join set up. FailedPrecondition saying so otherwise; NotFound if there is
// no drop-in.
Status CheckDropInUnchanged(const NodePaths& paths, const NodeState& node,
                            const hooks::RecordState* previous);

// Everything record on does except the drop-in, in this order: the
// recorder user (created if missing), the recorder binary made setuid to it
// (EnsureRecorderExecutable), the key dir (user 0700), the key (kept if
// valid, else refused; generated if missing), recorder.pub (root 0644),
// recorder.json (root 0644), the spool (user 0700) and run dir (user 0755);
// then record.json is written (keeping previous's mode, so leave can undo
// what was created even if the rest fails); then the public key is
// registered with gate-ca (PUT /v1/nodes/recorder-key). Appends a line per
// step to *notes. Returns the new state with all_sessions from options; the
// caller writes it once the drop-in is in place.
Result<hooks::RecordState> SetUpRecorder(const NodePaths& paths, const NodeState& node,
                                         const RecordOptions& options,
                                         const std::optional<hooks::RecordState>& previous,
                                         const HttpClient& client, std::vector<std::string>* notes);

// Recordings in the spool (files ending in .cast), and live sessions in the
// run dir (files ending in .json). NotFound passes through.
Result<std::size_t> CountFiles(const std::string& dir, std::string_view suffix);

// What leave does after sshd no longer runs the recorder: removes the
// recorder's private key, settings and run dir, and, when no recording is
// waiting in the spool, the spool, recorder.pub, the directories record on
// created and the recorder user it created; then record.json. With
// recordings waiting, the spool, recorder.pub and the user that owns them
// stay (nothing un-uploaded is ever deleted) and *notes says so.
Status TearDownRecorder(const NodePaths& paths, const hooks::RecordState& state,
                        std::vector<std::string>* notes);

}  // namespace gate::node

#endif  // GATE_SSHD_HOOKS_NODE_RECORD_SETUP_H_
