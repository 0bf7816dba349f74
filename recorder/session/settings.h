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

// CheckRootOwnedPath and LoadSettings: gate/recorder_settings.h.

// Reads the recorder's signing key (OpenSSH private key format): a regular
// file, not a symlink, owned by this process's effective uid and not
// readable or writable by group or others.
Result<ssh::Ed25519PrivateKey> LoadRecorderKey(const std::string& path);

}  // namespace gate::recorder

#endif  // GATE_RECORDER_SESSION_SETTINGS_H_
