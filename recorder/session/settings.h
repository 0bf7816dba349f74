// Loading the recorder's settings (gate/recorder_settings.h has the format)
// with the checks that make them trustworthy to a setuid program: the settings file must be root's
// (a user must not be able to point the recorder at settings of their own), and the signing key
// gate-rec's own secret.
#ifndef GATE_RECORDER_SESSION_SETTINGS_H_
#define GATE_RECORDER_SESSION_SETTINGS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "gate/ed25519.h"
#include "gate/recorder_settings.h"
#include "gate/status.h"

namespace gate::recorder {

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
