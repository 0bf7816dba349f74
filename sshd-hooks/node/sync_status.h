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

struct SyncStatus {
  std::int64_t attempted_at = 0;
  std::int64_t succeeded_at = 0;  // 0: never (since join)
  std::string last_error;         // "" when the last attempt succeeded
};

// NotFound before the first sync; DataLoss for a file that does not parse.
Result<SyncStatus> ReadSyncStatus(const std::string& path);
Status WriteSyncStatus(const std::string& path, const SyncStatus& status);

// The one place a sync attempt at `now` is recorded (gate-node sync and
// join): sync-status.json in data_dir and, when cache_status is OK (a
// changed or an unchanged policy alike), the cache's sync stamp
// (WriteSyncStamp in cache_dir), from which gate-principals measures
// staleness. Returns what was recorded; a failure to write either file is
// returned as the error (the caller reports it; the cache is unaffected).
Result<SyncStatus> RecordSyncAttempt(const std::string& data_dir, const std::string& cache_dir,
                                     const Status& cache_status, std::int64_t now);

// "" while the cache is fresh; otherwise one loud sentence saying how old
// it is and what that means (last_good: the last successful sync or, if
// none is recorded, the cache's own time stamp).
std::string StalenessWarning(std::int64_t last_good, std::int64_t now,
                             std::chrono::seconds max_age);

}  // namespace gate::node

#endif  // GATE_SSHD_HOOKS_NODE_SYNC_STATUS_H_
