// Turning gate-ca's GET /v1/nodes/policy reply into the node's cache files.
// Validation happens entirely before anything is written, so a reply that
// is wrong in any part leaves the last good cache in place.
#ifndef GATE_SSHD_HOOKS_NODE_CACHE_INSTALL_H_
#define GATE_SSHD_HOOKS_NODE_CACHE_INSTALL_H_

#include <json/json.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gate/policy.h"
#include "gate/status.h"

namespace gate::hooks {

// What the three files hold, each already proven to parse. InstallCache
// encodes the snapshot into policy.db (node::EncodePolicyCache).
struct CacheContents {
  policy::Snapshot snapshot;
  std::string user_ca;  // node::FormatUserCaKeys
  std::string krl;      // the KRL bytes, as gate-ca encoded them
};

// Validates {"snapshot": {...}, "user_ca": ["ssh-ed25519 ..."], "krl":
// "<base64>"}: the snapshot must pass SnapshotFromJson and, if
// expected_host_uuid is not empty, be for that host; user_ca must hold at
// least one parseable key; krl must be base64 of a KRL ssh::ParseKrl accepts.
// InvalidArgument naming the part that is wrong otherwise.
Result<CacheContents> CacheFromPolicyReply(const Json::Value& reply,
                                           std::string_view expected_host_uuid);

// Which files InstallCache rewrote. The *_changed flags are narrower than
// *_written: gate-ca stamps every snapshot (generated_at) and every KRL
// (generated_at, version) afresh, so both files change on every sync while
// what they grant or revoke rarely does.
struct CacheChanges {
  bool policy_written = false;
  bool policy_changed = false;
  bool user_ca_written = false;
  bool krl_written = false;
  bool krl_changed = false;
};

// Creates dir if needed and makes it owned by this euid, of group `group`,
// mode node::kCacheDirMode (0750); then writes each file whose content,
// owner, group or mode (node::kCacheFileMode, 0640) differs, atomically
// (WriteCacheFile): policy.db is node::EncodePolicyCache(snapshot). A
// failure part way leaves each file either old or new, never torn. Once
// policy.db is in place, an older gate-node's policy.json is removed.
// Errors name the file. group nullopt: node::kCacheGroup's gid (NotFound if
// that group does not exist; gate-node join creates it).
Result<CacheChanges> InstallCache(const std::string& dir, const CacheContents& contents,
                                  std::optional<gid_t> group = std::nullopt);

// One cache file, as InstallCache writes each: atomically, owned by this
// euid, of group `group`, mode 0640, the owner and mode set before any byte
// is written.
Status WriteCacheFile(const std::string& path, std::string_view content, gid_t group);

// After every successful sync (whether or not anything changed): dir's
// node::kSyncStampFile says `when`, with InstallCache's directory, owner,
// group and mode. gate-principals measures staleness from it.
Status WriteSyncStamp(const std::string& dir, std::int64_t when,
                      std::optional<gid_t> group = std::nullopt);

// "policy updated, user CA unchanged, KRL updated" style summary; "cache
// unchanged" when nothing but time stamps moved.
std::string DescribeCacheChanges(const CacheChanges& changes);

}  // namespace gate::hooks

#endif  // GATE_SSHD_HOOKS_NODE_CACHE_INSTALL_H_
