/* A pam_gate plugin from another build, for test_pam_host.py: it describes
 * itself with GATE_TEST_ABI_VERSION and GATE_TEST_STRUCT_SIZE, or (with
 * GATE_TEST_OLD_ENTRY) exports only version 1's C++ entry point. Its
 * authenticate says yes to everyone, so a pam_gate.so that ran it instead of
 * refusing it would let the test's user in. */
#include <stddef.h>

#include "pam_module/plugin_abi.h"

#ifdef GATE_TEST_OLD_ENTRY
void* gate_pam_make_factor_v1(int log_level);
void* gate_pam_make_factor_v1(int log_level) {
  (void)log_level;
  return NULL;
}
#else
static int AlwaysYes(const struct gate_pam_call* call) {
  (void)call;
  return GATE_PAM_OUTCOME_SUCCESS;
}

static const struct gate_pam_plugin kPlugin = {GATE_TEST_ABI_VERSION, GATE_TEST_STRUCT_SIZE, "fido",
                                               AlwaysYes};

const struct gate_pam_plugin* gate_pam_plugin_entry(void);
const struct gate_pam_plugin* gate_pam_plugin_entry(void) { return &kPlugin; }
#endif
