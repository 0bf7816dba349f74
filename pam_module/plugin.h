// A factor whose libraries are costly to load (libfido2, with libcrypto and
// libudev) lives in a plugin that pam_gate.so loads only when its options ask
// for it, so an OTP stack never pays for it. (Central OTP needs none: it
// talks to gate-node otp-relay over a Unix socket, otp_central.h.)
//
// A plugin is a shared object in the "pam_gate" directory beside pam_gate.so.
// The two meet only through the C structures of plugin_abi.h, checked for
// version and size on both sides: each carries its own copy of libgate and
// of the C++ runtime, so no C++ object may cross.
#ifndef GATE_PAM_PLUGIN_H_
#define GATE_PAM_PLUGIN_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gate/log.h"
#include "pam_module/factor.h"
#include "pam_module/plugin_abi.h"

namespace gate::pam {

inline constexpr std::string_view kFidoPlugin = "fido.so";

// --- pam_gate.so's side -------------------------------------------------

// Loads plugin `name` from the plugin directory and returns a Factor that
// runs it, handing it `args` (the module's arguments, which the plugin
// parses itself), the users, the conversation and log lines at `level` and
// above. The file must be a regular file owned by root (or by this process's
// euid), not writable by group or others, in a directory with the same
// rules; it is opened once, checked on the open descriptor, and loaded
// through /proc/self/fd, so what was checked is what runs. Its description
// must carry GATE_PAM_PLUGIN_ABI_VERSION and at least the size of this
// build's struct gate_pam_plugin. nullptr (after a log line saying why) on
// any failure: the caller fails closed.
std::unique_ptr<Factor> LoadPluginFactor(std::string_view name, std::vector<std::string> args,
                                         log::Level level);

// --- the plugin's side --------------------------------------------------

// The body of a plugin's authenticate function: checks the call's version
// and size, sends the plugin's log lines to call->log, parses call->argv,
// runs the factor make_factor returns, and maps its Outcome. Catches
// everything; GATE_PAM_OUTCOME_ERROR on any failure. make_factor is called
// once per call.
int RunPluginCall(const gate_pam_call* call, std::unique_ptr<Factor> (*make_factor)());

// --- both -----------------------------------------------------------------

// The Outcome <-> gate_pam_outcome mapping; a value outside the enum is
// Outcome::kError. Table-tested.
int ToAbiOutcome(Outcome outcome);
Outcome FromAbiOutcome(int outcome);

}  // namespace gate::pam

#endif  // GATE_PAM_PLUGIN_H_
