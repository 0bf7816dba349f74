// The node's policy cache (docs/node-protocol.md, "The cache on the node"):
// three files gate-node sync writes, and gate-principals (on every login) and
// gate-record (who is recorded, who may join) read.
// Reading is the hot path of a login and runs as an unprivileged user, so
// every file is opened the pam-u2f way and refused unless it is a regular
// file (not a symlink) owned by the expected uid and not writable by
// group/others. Nothing here touches the network.
#ifndef GATE_NODE_CACHE_H_
#define GATE_NODE_CACHE_H_

#include <sys/types.h>

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
inline constexpr std::string_view kPolicyFile = "policy.json";
inline constexpr std::string_view kUserCaFile = "user_ca.pub";
inline constexpr std::string_view kKrlFile = "revoked.krl";

// A snapshot with thousands of users and roles stays well under this; the cap
// bounds what a corrupt file can make the login path read and parse.
inline constexpr std::size_t kMaxPolicySize = 4 * 1024 * 1024;
inline constexpr std::size_t kMaxUserCaSize = 64 * 1024;
inline constexpr std::size_t kMaxKrlSize = ssh::kMaxKrlSize;

// Where a cache lives and who must own it. In production the owner is root
// (0); tests point it at their own uid.
struct CacheLocation {
  std::string dir{kDefaultCacheDir};
  uid_t owner = 0;

  std::string PolicyPath() const { return dir + "/" + std::string(kPolicyFile); }
  std::string UserCaPath() const { return dir + "/" + std::string(kUserCaFile); }
  std::string KrlPath() const { return dir + "/" + std::string(kKrlFile); }
};

// OK if dir is a directory (not a symlink) owned by cache.owner and not
// writable by group/others: a writable directory would let someone swap
// the files between our checks. PermissionDenied/NotFound otherwise, naming
// the directory and the fix.
Status CheckCacheDir(const CacheLocation& cache);

// Reads and strictly parses cache/policy.json (policy::SnapshotFromJson).
// PermissionDenied for an unsafe file, NotFound if missing, InvalidArgument
// or DataLoss if it does not parse. Does not check the directory.
Result<policy::Snapshot> ReadSnapshot(const CacheLocation& cache);

// Reads cache/user_ca.pub and parses it with ParseUserCaKeys.
Result<std::vector<ssh::Ed25519PublicKey>> ReadUserCaKeys(const CacheLocation& cache);

// The TrustedUserCAKeys file: one "ssh-ed25519 BASE64 [comment]" per line;
// blank lines and lines starting with '#' are skipped. Any other line that
// does not parse makes the whole file InvalidArgument (a file we only half
// understand is not trusted). Zero keys is not an error here.
Result<std::vector<ssh::Ed25519PublicKey>> ParseUserCaKeys(std::string_view text);

// The inverse: one "ssh-ed25519 BASE64" line per key, each ending in '\n'.
std::string FormatUserCaKeys(const std::vector<ssh::Ed25519PublicKey>& keys);

// The FilePolicy every cache file is read under: owned by `owner`, not
// writable by group/others, readable by anyone (not a secret).
FilePolicy CacheFilePolicy(uid_t owner, std::size_t max_size);

}  // namespace gate::node

#endif  // GATE_NODE_CACHE_H_
