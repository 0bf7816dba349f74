// The node's policy cache (docs/node-protocol.md, "The cache on the node"):
// three files gate-node sync writes, and gate-principals (on every login) and
// gate-record (who is recorded, who may join) read. The policy is an indexed
// SQLite file, so a login reads the rows of one user whatever the cluster's
// size.
// Reading is the hot path of a login and runs as an unprivileged user, so
// every file is opened the pam-u2f way and refused unless it is a regular
// file (not a symlink) owned by the expected uid, not writable by
// group/others and not readable by others. The cache names every user,
// role and lock message, so only root and the group kCacheGroup may read
// it: the directory is root:gate-cache 0750, the files 0640 (gate-principals'
// user is in the group; gate-record is setgid to it). Nothing here touches
// the network.
#ifndef GATE_NODE_CACHE_H_
#define GATE_NODE_CACHE_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gate/ed25519.h"
#include "gate/krl.h"
#include "gate/policy.h"
#include "gate/secure_file.h"
#include "gate/status.h"

namespace gate::node {

inline constexpr std::string_view kDefaultDataDir = "/var/lib/gate-node";
inline constexpr std::string_view kDefaultCacheDir = "/var/lib/gate-node/cache";
inline constexpr std::string_view kPolicyFile = "policy.db";
// The whole-JSON cache of older gate-node versions: never read, only named
// in the error that tells the operator to sync, and removed by the sync that
// writes kPolicyFile.
inline constexpr std::string_view kLegacyPolicyFile = "policy.json";
inline constexpr std::string_view kUserCaFile = "user_ca.pub";
inline constexpr std::string_view kKrlFile = "revoked.krl";
// When the last successful gate-node sync ended (changed policy or not):
// the unix time in decimal and '\n'. Staleness is measured from it, not
// from the snapshot's generated_at, since a sync that finds nothing new
// may leave the other files untouched.
inline constexpr std::string_view kSyncStampFile = "synced-at";
// The group that may read the cache besides root.
inline constexpr std::string_view kCacheGroup = "gate-cache";
inline constexpr mode_t kCacheDirMode = 0750;
inline constexpr mode_t kCacheFileMode = 0640;
inline constexpr std::size_t kMaxSyncStampSize = 32;

// The policy file's size cap. A login maps the file and reads a few pages of
// it, so the cap bounds address space, not work: 100,000 users and 500 roles
// take ~20 MiB. What a corrupt file can make a login read is bounded per row
// (1 MiB) and per user (1,000 locks) in policy_db.cc.
inline constexpr std::size_t kMaxPolicySize = std::size_t{1} << 30;
inline constexpr std::size_t kMaxUserCaSize = 64 * 1024;
inline constexpr std::size_t kMaxKrlSize = ssh::kMaxKrlSize;

// Where a cache lives and who must own it. In production the owner is root
// (0); tests point it at their own uid.
struct CacheLocation {
  std::string dir{kDefaultCacheDir};
  uid_t owner = 0;
  // The directory's group. nullopt (production): kCacheGroup's gid, looked
  // up by name; tests set their own.
  std::optional<gid_t> group;

  std::string PolicyPath() const { return dir + "/" + std::string(kPolicyFile); }
  std::string LegacyPolicyPath() const { return dir + "/" + std::string(kLegacyPolicyFile); }
  std::string UserCaPath() const { return dir + "/" + std::string(kUserCaFile); }
  std::string KrlPath() const { return dir + "/" + std::string(kKrlFile); }
  std::string SyncStampPath() const { return dir + "/" + std::string(kSyncStampFile); }
};

// cache.group, or the gid of the group kCacheGroup. NotFound naming the
// group and the fix (gate-node join creates it) when it does not exist.
Result<gid_t> CacheGroupId(const CacheLocation& cache);

// OK if dir is a directory (not a symlink) owned by cache.owner, of group
// CacheGroupId(cache), not writable by its group and not accessible to
// others: a writable directory would let someone swap the files between
// our checks, and one others may search would show them every user, role
// and lock. PermissionDenied/NotFound otherwise, naming the directory and
// the fix.
Status CheckCacheDir(const CacheLocation& cache);

// Reads the whole snapshot from cache/policy.db: every user, role, lock and
// revoked serial, in the order EncodePolicyCache was given them. O(size of
// the policy): for gate-node (sync, status), never for a login.
// Errors, all naming the file: PermissionDenied for an unsafe file (symlink,
// wrong owner, writable by group/others); NotFound if missing;
// FailedPrecondition if only an older gate-node's policy.json is there;
// DataLoss if it is not a policy cache of this format version, is truncated
// or corrupt, or any entry fails policy::SnapshotFromJson's checks.
// Does not check the directory. Thread-safe (no shared state).
Result<policy::Snapshot> ReadSnapshot(const CacheLocation& cache);

// The snapshot one login needs, read from cache/policy.db by index in
// O(log n): the header (cluster, host, node labels, times), `user` if the
// cluster has it, the roles that user names and that exist, the locks on
// that user, and `serial` in revoked_serials iff it is revoked. The policy
// functions of gate/policy.h (DecideLogin, MustRecord, MayJoinSessions,
// MayForwardPorts, ActiveLock) give the same answer for `user` and `serial`
// on it as on the whole snapshot. An unknown user is not an error (the
// snapshot has no users; DecideLogin denies). Errors as ReadSnapshot's,
// plus DataLoss for a row whose key disagrees with its entry or a user with
// more than 1,000 locks. Thread-safe (no shared state).
Result<policy::Snapshot> ReadLoginSnapshot(const CacheLocation& cache, std::string_view user,
                                           std::uint64_t serial);

// The bytes of cache/policy.db for snapshot: a SQLite database (format in
// docs/node-protocol.md) that ReadSnapshot reads back equal to snapshot.
// Deterministic for a given snapshot and SQLite version. InvalidArgument if
// an entry is over 1 MiB or the file would exceed kMaxPolicySize. Only
// sync's cache installer writes the cache; this is its encoder.
Result<std::string> EncodePolicyCache(const policy::Snapshot& snapshot);

// Reads cache/user_ca.pub and parses it with ParseUserCaKeys.
Result<std::vector<ssh::Ed25519PublicKey>> ReadUserCaKeys(const CacheLocation& cache);

// The TrustedUserCAKeys file: one "ssh-ed25519 BASE64 [comment]" per line;
// blank lines and lines starting with '#' are skipped. Any other line that
// does not parse makes the whole file InvalidArgument (a file we only half
// understand is not trusted). Zero keys is not an error here.
Result<std::vector<ssh::Ed25519PublicKey>> ParseUserCaKeys(std::string_view text);

// The inverse: one "ssh-ed25519 BASE64 SHA256:FINGERPRINT" line per key,
// each ending in '\n'. The comment is the key's fingerprint
// (Ed25519PublicKey::Fingerprint), recorded here so that gate-principals can
// name the CA in its log lines without hashing: it does not link libcrypto,
// whose load would cost every login (docs/benchmarks.md). sshd and
// ParseUserCaKeys ignore the comment.
std::string FormatUserCaKeys(const std::vector<ssh::Ed25519PublicKey>& keys);

// The fingerprint FormatUserCaKeys recorded beside `ca` in cache/user_ca.pub
// (read under CacheFilePolicy, like ReadUserCaKeys), for log lines only: it
// is not checked against the key, and no decision may depend on it. Empty
// when the file cannot be read or does not parse, when it does not list
// `ca`, or when its line for `ca` has no "SHA256:" comment (a cache written
// by an older gate-node).
std::string RecordedUserCaFingerprint(const CacheLocation& cache, const ssh::Ed25519PublicKey& ca);

// The FilePolicy every cache file is read under: owned by `owner`, not
// writable by group/others, not readable by others (its group, the
// directory's, may read it).
FilePolicy CacheFilePolicy(uid_t owner, std::size_t max_size);

// Reads cache/synced-at (CacheFilePolicy): the unix time of the last
// successful sync. NotFound if missing (never synced since this was
// introduced), PermissionDenied for an unsafe file, DataLoss if it is not
// one positive decimal number and a newline.
Result<std::int64_t> ReadSyncStamp(const CacheLocation& cache);

// The stamp's bytes for `when`, and their strict parse (DataLoss otherwise).
std::string FormatSyncStamp(std::int64_t when);
Result<std::int64_t> ParseSyncStamp(std::string_view text);

}  // namespace gate::node

#endif  // GATE_NODE_CACHE_H_
