// Factors whose libraries are costly to load (libssl and libcrypto for
// central OTP's HTTPS; libfido2) live in plugins that pam_gate.so loads only
// when its options ask for them, so a local-OTP stack pays for neither. (The
// central plugin once linked libcurl, whose ~40 libraries alone took 4 ms of
// an 8.7 ms authentication; it now speaks HTTPS through Boost.Beast.)
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

inline constexpr std::string_view kCentralPlugin = "central.so";
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
