// The sshd drop-in gate-node join writes (docs/node-protocol.md, "The sshd
// drop-in"): it makes stock sshd trust gate's user CA, honour its KRL,
// present the host certificate, and ask gate-principals who may log in; with
// recording on (gate-node record on, docs/recording.md) it also runs every
// session under the recorder.
#ifndef GATE_SSHD_HOOKS_PRINCIPALS_DROP_IN_H_
#define GATE_SSHD_HOOKS_PRINCIPALS_DROP_IN_H_

#include <string>
#include <string_view>

#include "gate/status.h"
#include "sshd-hooks/principals/staleness.h"

namespace gate::hooks {

inline constexpr std::string_view kDropInName = "50-gate.conf";
inline constexpr std::string_view kDropInHeader =
    "# Managed by gate-node join; gate-node leave removes it.";

struct DropInSettings {
  std::string cache_dir;           // TrustedUserCAKeys/RevokedKeys live here
  std::string host_certificate;    // HostCertificate
  std::string principals_command;  // the gate-principals binary
  std::string principals_user;     // AuthorizedPrincipalsCommandUser
  // The recorder gate-principals names in command="..." and ForceCommand
  // runs. Empty: gate-principals' default (/usr/libexec/gate/gate-record),
  // and no --record-command is written.
  std::string record_command;
  // The recorder's settings file. Empty: its default
  // (/etc/gate/recorder.json), and no --config is written.
  std::string record_config;
  // ForceCommand <recorder>: every session on the node is recorded, and
  // sshd's own forwarding (TCP, Unix sockets, tunnels) is off, since sshd
  // would forward unrecorded (docs/recording.md, "Port forwarding").
  bool record_all_sessions = false;
  // The node operator's stale-cache rule (node.json), passed to
  // gate-principals as --stale-cache/--max-cache-age; the defaults write
  // neither flag, so the drop-in of a node that never chose stays as it was.
  StalenessRule staleness;
};

// The recorder's command line the drop-in names: record_command (or the
// default), then " --config FILE" when record_config is set.
std::string RecordCommandOf(const DropInSettings& settings);

// AuthorizedPrincipalsCommand's value: gate-principals, its flags, "%u %t %k".
// Under StaleCache::kDeny both --stale-cache deny and --max-cache-age;
// under kAllow --max-cache-age only when it is not the default.
std::string PrincipalsCommandOf(const DropInSettings& settings);

// The file's exact text, each line ending in '\n'. Call ValidateDropIn first:
// this function does not quote or check anything.
std::string RenderDropIn(const DropInSettings& settings);

// OK if every path (the recorder too, when given or forced) is absolute and
// made only of characters sshd_config takes literally, and the user is a
// valid login name. sshd splits arguments on
// whitespace and quotes, treats '#' as a comment and expands '%' tokens in
// AuthorizedPrincipalsCommand, so any of those (or a control character)
// would silently change what sshd runs: InvalidArgument naming the setting.
Status ValidateDropIn(const DropInSettings& settings);

// The same check for one path; `what` names it in the message.
Status ValidateConfigPath(std::string_view what, std::string_view path);

}  // namespace gate::hooks

#endif  // GATE_SSHD_HOOKS_PRINCIPALS_DROP_IN_H_
