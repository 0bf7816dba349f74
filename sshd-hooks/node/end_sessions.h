// The step `gate-node sync` runs after every successful cache install:
// end the live sessions the installed snapshot's locks and revocations
// cover (session_reaper.h), and say so.
#ifndef GATE_SSHD_HOOKS_NODE_END_SESSIONS_H_
#define GATE_SSHD_HOOKS_NODE_END_SESSIONS_H_

#include <cstdint>

#include "gate/policy.h"
#include "sshd-hooks/node/node_flags.h"

namespace gate::node {

// Finds the recorders' run directory from what `record on` noted
// (record.json), else from the recorder's settings (--recorder-config),
// and their uid from --recorder-user (neither: the node does not record,
// and only sessions without the recorder are looked for), runs EndCoveredSessions and prints one
// line per session ended on stdout ("gate-node sync: ended recorded session ID of alice (login
// root, certificate serial 7): locked: ...") and one per problem on stderr; both reach the journal
// under the sync unit. Returns whether every covered session could be looked at and ended.
bool EndSessionsAfterSync(const NodePaths& paths, const policy::Snapshot& snapshot,
                          std::int64_t now);

}  // namespace gate::node

#endif  // GATE_SSHD_HOOKS_NODE_END_SESSIONS_H_
