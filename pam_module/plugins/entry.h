// Defines a plugin's entry point (pam_module/plugin_abi.h) for one factor.
#ifndef GATE_PAM_PLUGINS_ENTRY_H_
#define GATE_PAM_PLUGINS_ENTRY_H_

#include "pam_module/plugin.h"
#include "pam_module/plugin_abi.h"

// The plugin's static description, and its authenticate function, which runs
// make_factor's factor through gate::pam::RunPluginCall.
#define GATE_PAM_PLUGIN_ENTRY(plugin_name, make_factor)                             \
  namespace {                                                                       \
  int GatePamPluginAuthenticate(const gate_pam_call* call) {                        \
    return gate::pam::RunPluginCall(call, &make_factor);                            \
  }                                                                                 \
  constexpr gate_pam_plugin kGatePamPlugin = {GATE_PAM_PLUGIN_ABI_VERSION,          \
                                              sizeof(gate_pam_plugin), plugin_name, \
                                              &GatePamPluginAuthenticate};          \
  }                                                                                 \
  extern "C" const gate_pam_plugin* gate_pam_plugin_entry(void) { return &kGatePamPlugin; }

#endif  // GATE_PAM_PLUGINS_ENTRY_H_
