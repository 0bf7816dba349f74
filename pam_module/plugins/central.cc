// central.so: pam_gate's central OTP factor (HTTPS to gate-ca through
// Boost.Beast and libssl, not libcurl), loaded on demand.
#include "pam_module/plugins/entry.h"

GATE_PAM_PLUGIN_ENTRY(gate::pam::MakeCentralOtp)
