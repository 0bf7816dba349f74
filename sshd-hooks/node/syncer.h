// What `gate-node sync` does, shared with `gate-node join` (which syncs as
// its last network step): fetch the node's policy cache from gate-ca and
// install it, and renew the host certificate when it is due.
#ifndef GATE_SSHD_HOOKS_NODE_SYNCER_H_
#define GATE_SSHD_HOOKS_NODE_SYNCER_H_

#include <cstdint>
#include <string>

#include "gate/http_client.h"
#include "gate/node_state.h"
#include "gate/status.h"
#include "sshd-hooks/node/cache_install.h"
#include "sshd-hooks/node/node_flags.h"

namespace gate::node {

struct SyncOutcome {
  // The two halves run independently, so a policy gate-ca sends wrong does
  // not stop the host certificate from being renewed, and vice versa. On
  // failure the old files are kept.
  Status cache_status;
  hooks::CacheChanges cache;
  // The policy revision the cache is at after a successful sync, and how it
  // got there: "unchanged", "delta: …", "full snapshot in N page(s)".
  std::int64_t revision = 0;
  std::string sync_kind;
  // The snapshot now in the cache (when cache_status is OK), for the steps
  // that follow the install (ending the sessions a lock covers).
  policy::Snapshot installed;

  Status host_cert_status;
  bool host_cert_written = false;
  std::string host_cert_note;  // why it was (re)issued, e.g. "renewed, 9 days left"
  std::int64_t host_cert_valid_before = 0;

  bool ok() const { return cache_status.ok() && host_cert_status.ok(); }
  // The failures (both, if both halves failed), with context saying which;
  // the code is the first failure's.
  Status status() const;
  // One line: "policy updated, user CA unchanged, KRL unchanged; host
  // certificate valid until 2025-03-01 12:00 UTC".
  std::string Describe() const;
};

// One sync at `now`: GET /v1/nodes/policy?since=<the cache's revision>
// (docs/node-protocol.md, "Sync"); an unchanged policy writes nothing, a
// delta is applied to the last good snapshot, a full snapshot is fetched
// page by page; the whole new snapshot is validated (CacheFromPolicyReply)
// and installed into paths.CacheDir() (InstallCache). Any error keeps the
// last good cache; a delta that does not apply makes the next sync fetch
// the full snapshot. Then, if the host certificate is
// missing, not for this host key, invalid, or has less than a third of its
// lifetime left, POST /v1/nodes/host-cert and write the new one (0644).
// Does not reload sshd: the caller decides (host_cert_written).
SyncOutcome SyncNode(const NodePaths& paths, const NodeState& state, const HttpClient& client,
                     std::int64_t now);

// Writes `line` (plus '\n') to path atomically with mode 0644 unless the file
// already holds exactly that. Returns whether it wrote.
Result<bool> WriteIfChanged(const std::string& path, const std::string& content);

// Checks the config with sshd -t and reloads sshd by `method`. The reload
// is skipped (OK) for ReloadMethod::kNone.
Status CheckAndReload(const NodePaths& paths, const hooks::ReloadMethod& method);

// "sshd reloaded (systemctl reload ssh)" or "sshd not reloaded (--no-reload)".
std::string ReloadNote(const hooks::ReloadMethod& method);

// Current unix time.
std::int64_t Now();

}  // namespace gate::node

#endif  // GATE_SSHD_HOOKS_NODE_SYNCER_H_
