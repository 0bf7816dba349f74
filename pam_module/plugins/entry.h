// Defines a plugin's entry point (see pam_module/plugin.h) for one factor.
#ifndef GATE_PAM_PLUGINS_ENTRY_H_
#define GATE_PAM_PLUGINS_ENTRY_H_

#include "gate/log.h"
#include "pam_module/factor.h"

// The plugin carries its own copy of libgate, logging included: set it up as
// the module's is, then hand over a factor. Nothing may escape as an exception.
#define GATE_PAM_PLUGIN_ENTRY(make_factor)                               \
  extern "C" gate::pam::Factor* gate_pam_make_factor_v1(int log_level) { \
    try {                                                                \
      gate::log::Init(gate::log::Sink::kSyslog, "pam_gate",              \
                      static_cast<gate::log::Level>(log_level));         \
      return make_factor().release();                                    \
    } catch (...) {                                                      \
      return nullptr;                                                    \
    }                                                                    \
  }

#endif  // GATE_PAM_PLUGINS_ENTRY_H_
