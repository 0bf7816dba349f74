// A factor whose libraries are costly to load (libfido2, with libcrypto and
// libudev) lives in a plugin that pam_gate.so loads only when its options ask
// for it, so an OTP stack never pays for it. (Central OTP needs none: it
// talks to gate-node otp-relay over a Unix socket, otp_central.h.)
//
// A plugin is a shared object in the "pam_gate" directory beside pam_gate.so,
// exporting one C function, kPluginSymbol, that returns a new Factor.
#ifndef GATE_PAM_PLUGIN_H_
#define GATE_PAM_PLUGIN_H_

#include <memory>
#include <string_view>

#include "gate/log.h"
#include "pam_module/factor.h"

namespace gate::pam {

inline constexpr std::string_view kFidoPlugin = "fido.so";
inline constexpr char kPluginSymbol[] = "gate_pam_make_factor_v1";

// The plugin's entry point: sets up the plugin's own logging at `log_level`
// (a gate::log::Level), then returns a Factor the caller owns (nullptr on
// failure). Versioned by name: a new signature gets a new symbol.
using PluginEntry = Factor* (*)(int log_level);

// Loads plugin `name` from the plugin directory and makes its factor.
// The file must be a regular file owned by root (or by this process's euid),
// not writable by group or others, in a directory with the same rules; it is
// opened once, checked on the open descriptor, and loaded through
// /proc/self/fd, so what was checked is what runs. nullptr (after a log line
// saying why) on any failure: the caller fails closed.
std::unique_ptr<Factor> LoadPluginFactor(std::string_view name, log::Level level);

}  // namespace gate::pam

#endif  // GATE_PAM_PLUGIN_H_
