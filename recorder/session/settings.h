// The recorder's settings, /etc/gate/recorder.json (docs/recording.md,
// "Files and users"), and the checks that make them trustworthy to a
// setuid program: the settings file must be root's (a user must not be able
// to point the recorder at settings of their own), and the signing key
// gate-rec's own secret.
#ifndef GATE_RECORDER_SESSION_SETTINGS_H_
#define GATE_RECORDER_SESSION_SETTINGS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "gate/ed25519.h"
#include "gate/status.h"

namespace gate::recorder {

inline constexpr std::string_view kDefaultSettingsPath = "/etc/gate/recorder.json";
inline constexpr std::string_view kDefaultSpoolDir = "/var/spool/gate/sessions";
inline constexpr std::string_view kDefaultRunDir = "/run/gate/sessions";
inline constexpr std::string_view kDefaultKeyFile = "/var/lib/gate-rec/recorder.key";
inline constexpr std::string_view kDefaultCacheDir = "/var/lib/gate-node/cache";
inline constexpr std::int64_t kDefaultFlushIntervalMs = 100;
inline constexpr std::int64_t kMinFlushIntervalMs = 10;
inline constexpr std::int64_t kMaxFlushIntervalMs = 60000;
inline constexpr std::size_t kMaxSettingsSize = 64 * 1024;

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
};

// Strict: the top level is an object with "version": 1; cluster_name,
// host_uuid, node_name and proxy are required non-empty strings without
// control characters; paths, when present, are absolute; flush_interval_ms
// is within [10, 60000]; record_* are booleans; any other field is refused.
// InvalidArgument naming the field otherwise.
Result<Settings> ParseSettings(std::string_view text);

// OK if path is absolute, its real path is a regular file owned by `owner`
// and not writable by group or others, and every directory from the file's
// up to and including `top` is owned by `owner` and not writable by group or
// others (the checks sshd applies to its own files). A path that does not
// lie under `top` is refused. Production uses owner 0 and top "/"; tests
// use their own uid and a scratch directory. PermissionDenied naming the
// offending component otherwise; NotFound if the file does not exist.
Status CheckRootOwnedPath(const std::string& path, uid_t owner = 0, const std::string& top = "/");

// CheckRootOwnedPath, then read and ParseSettings. Errors name the path.
Result<Settings> LoadSettings(const std::string& path, uid_t owner = 0,
                              const std::string& top = "/");

// Reads the recorder's signing key (OpenSSH private key format): a regular
// file, not a symlink, owned by this process's effective uid and not
// readable or writable by group or others.
Result<ssh::Ed25519PrivateKey> LoadRecorderKey(const std::string& path);

}  // namespace gate::recorder

#endif  // GATE_RECORDER_SESSION_SETTINGS_H_
