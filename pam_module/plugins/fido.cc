// fido.so: pam_gate's FIDO2/U2F factor (libfido2), loaded on demand.
#include "pam_module/plugins/entry.h"

GATE_PAM_PLUGIN_ENTRY("fido", gate::pam::MakeFido)
