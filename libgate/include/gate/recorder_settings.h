// recorder.json, the recorder's settings (docs/recording.md, "Files and
// users"): one definition of the format for its writer (`gate-node record
// on`) and its readers (gate-record, gate status, gate join), so the two
// sides cannot disagree on a field or a bound.
#ifndef GATE_RECORDER_SETTINGS_H_
#define GATE_RECORDER_SETTINGS_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "gate/status.h"

namespace gate::recorder {

inline constexpr std::string_view kDefaultSettingsPath = "/etc/gate/recorder.json";
inline constexpr std::string_view kDefaultSpoolDir = "/var/spool/gate/sessions";
inline constexpr std::string_view kDefaultRunDir = "/run/gate/sessions";
inline constexpr std::string_view kDefaultKeyFile = "/var/lib/gate-rec/recorder.key";
// gate-record's own log in its spool, on a node with neither syslog nor the
// journal (recorder/session/log_file.h); gate-node leave reports and
// removes it with the spool.
inline constexpr char kRecorderLogFile[] = "gate-record.log";
inline constexpr std::string_view kDefaultCacheDir = "/var/lib/gate-node/cache";
inline constexpr std::int64_t kDefaultFlushIntervalMs = 100;
inline constexpr std::int64_t kMinFlushIntervalMs = 10;
inline constexpr std::int64_t kMaxFlushIntervalMs = 60000;
inline constexpr std::size_t kMaxSettingsSize = 64 * 1024;
// The output a live joiner is shown first (docs/recording.md, "Live join"):
// at most this much, kept on disk in the spool while the session runs.
// 0 keeps none on disk (joiners then see the last 256 KiB, held in memory).
inline constexpr std::uint64_t kDefaultJoinHistoryBytes = 64ull * 1024 * 1024;
inline constexpr std::uint64_t kMinJoinHistoryBytes = 1024 * 1024;
inline constexpr std::uint64_t kMaxJoinHistoryBytes = 1ull << 40;

struct Settings {
  std::string cluster_name;
  std::string host_uuid;
  std::string node_name;
  std::string proxy;  // host:port, for the session URL
  std::string cache_dir{kDefaultCacheDir};
  std::string spool_dir{kDefaultSpoolDir};
  std::string run_dir{kDefaultRunDir};
  std::string key_file{kDefaultKeyFile};
  std::int64_t flush_interval_ms = kDefaultFlushIntervalMs;
  bool record_input = false;
  bool record_exec_output = false;
  std::uint64_t join_history_bytes = kDefaultJoinHistoryBytes;
};

// Strict: the top level is an object with "version": 1; cluster_name,
// host_uuid, node_name and proxy are required non-empty strings without
// control characters; paths, when present, are absolute; flush_interval_ms
// is within [10, 60000]; record_* are booleans; join_history_bytes is 0 or
// within [1 MiB, 1 TiB]; any other field is refused.
// InvalidArgument naming the field otherwise.
Result<Settings> ParseSettings(std::string_view text);

// The settings as recorder.json: {"version": 1, every field}, then a
// newline.
std::string RenderSettings(const Settings& settings);

// OK if ParseSettings would accept what RenderSettings writes for settings
// (the writer's check is the reader's parse, not a second rule set).
Status ValidateSettings(const Settings& settings);

// Where `gate-node record on` writes the recorder key's public half (root
// 0644): recorder.pub in the directory of the settings file at
// settings_path. Verifiers (`gate play --verify` on the node) find it here.
std::string PublicKeyPath(std::string_view settings_path);

// This node's settings file as a program on it sees it: $GATE_RECORDER_CONFIG
// when set and not empty (gate-record sets it for the sessions it records
// when its settings are elsewhere, as on the demo node), else
// kDefaultSettingsPath.
std::string SettingsPathFromEnvironment();

// The recorder runs setuid, so its settings are trusted only from a file a
// user cannot have written or swapped: OK if path is absolute, its real path
// is a regular file owned by `owner` and not writable by group or others,
// and every directory from the file's up to and including `top` is owned by
// `owner` and not writable by group or others (CheckSafePath with
// Links::kResolve, gate/secure_file.h). A path that does not lie under `top`
// is refused. Production uses owner 0 and top "/"; tests use their own uid
// and a scratch directory. PermissionDenied naming the offending component
// otherwise; NotFound if the file does not exist.
Status CheckRootOwnedPath(const std::string& path, uid_t owner = 0, const std::string& top = "/");

// CheckRootOwnedPath, then read (O_NOFOLLOW, checked on the descriptor) and
// ParseSettings. Errors name the path.
Result<Settings> LoadSettings(const std::string& path, uid_t owner = 0,
                              const std::string& top = "/");

}  // namespace gate::recorder

#endif  // GATE_RECORDER_SETTINGS_H_
