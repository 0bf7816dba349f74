// What the last `gate-node sync` runs did, for `gate-node status` and for
// the staleness warning: when one last tried, when one last succeeded, and
// why the last one failed. DATA_DIR/sync-status.json, root 0600.
#ifndef GATE_SSHD_HOOKS_NODE_SYNC_STATUS_H_
#define GATE_SSHD_HOOKS_NODE_SYNC_STATUS_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "gate/status.h"

namespace gate::node {

inline constexpr char kSyncStatusFile[] = "sync-status.json";
// Past this, a node's cache is stale: locks and revocations made since are
// not enforced there. gate-node sync and status say so loudly.
inline constexpr std::chrono::seconds kDefaultMaxCacheAge{10 * 60};

struct SyncStatus {
  std::int64_t attempted_at = 0;
  std::int64_t succeeded_at = 0;  // 0: never (since join)
  std::string last_error;         // "" when the last attempt succeeded
};

// NotFound before the first sync; DataLoss for a file that does not parse.
Result<SyncStatus> ReadSyncStatus(const std::string& path);
Status WriteSyncStatus(const std::string& path, const SyncStatus& status);

// "" while the cache is fresh; otherwise one loud sentence saying how old
// it is and what that means (last_good: the last successful sync or, if
// none is recorded, the cache's own time stamp).
std::string StalenessWarning(std::int64_t last_good, std::int64_t now,
                             std::chrono::seconds max_age);

}  // namespace gate::node

#endif  // GATE_SSHD_HOOKS_NODE_SYNC_STATUS_H_
