#include "sshd-hooks/node/sync_status.h"

#include "gate/duration.h"
#include "gate/json.h"
#include "gate/secure_file.h"
#include "sshd-hooks/node/cache_install.h"
#include "sshd-hooks/node/host_cert.h"

namespace gate::node {

Result<SyncStatus> ReadSyncStatus(const std::string& path) {
  auto text = ReadFile(path, 64 * 1024);
  if (!text) return Err(text.error());
  auto v = json::Parse(*text, 64 * 1024);
  if (!v || !v->isObject() || !(*v)["attempted_at"].isInt64() || !(*v)["succeeded_at"].isInt64() ||
      !(*v)["last_error"].isString()) {
    return Err(DataLoss(path + " does not parse"));
  }
  return SyncStatus{(*v)["attempted_at"].asInt64(), (*v)["succeeded_at"].asInt64(),
                    (*v)["last_error"].asString()};
}

Status WriteSyncStatus(const std::string& path, const SyncStatus& status) {
  Json::Value v(Json::objectValue);
  v["attempted_at"] = Json::Int64(status.attempted_at);
  v["succeeded_at"] = Json::Int64(status.succeeded_at);
  v["last_error"] = status.last_error;
  return WriteFileAtomic(path, json::Write(v) + "\n", 0600);
}

Result<SyncStatus> RecordSyncAttempt(const std::string& data_dir, const std::string& cache_dir,
                                     const Status& cache_status, std::int64_t now) {
  const std::string path = data_dir + "/" + kSyncStatusFile;
  SyncStatus status = ReadSyncStatus(path).value_or(SyncStatus{});
  status.attempted_at = now;
  if (cache_status.ok()) {
    status.succeeded_at = now;
    status.last_error.clear();
  } else {
    status.last_error = cache_status.ToString();
  }
  Status stamp = cache_status.ok() ? hooks::WriteSyncStamp(cache_dir, now) : Status::Ok();
  Status written = WriteSyncStatus(path, status);
  if (!stamp.ok()) return Err(stamp.WithContext("sync stamp"));
  if (!written.ok()) return Err(written);
  return status;
}

std::string StalenessWarning(std::int64_t last_good, std::int64_t now,
                             std::chrono::seconds max_age) {
  if (last_good > 0 && now - last_good <= max_age.count()) return "";
  const std::string age = last_good > 0
                              ? FormatDuration(std::chrono::seconds(now - last_good)) +
                                    " old (last good sync " + hooks::FormatUnixTime(last_good) + ")"
                              : "of unknown age (no successful sync recorded)";
  return "the policy cache is " + age + ", past the " + FormatDuration(max_age) +
         " limit: users locked, roles changed and certificates revoked since then are not "
         "enforced on this node until gate-node sync succeeds";
}

}  // namespace gate::node
