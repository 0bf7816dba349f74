// Helpers for the libgate SSH tests that talk to the real OpenSSH tools.
#ifndef GATE_TESTS_UNIT_LIBGATE_SSH_TEST_UTIL_H_
#define GATE_TESTS_UNIT_LIBGATE_SSH_TEST_UTIL_H_

#include <unistd.h>

#include "common/test_util.h"

namespace gate::testing {

inline constexpr char kSshKeygen[] = "/usr/bin/ssh-keygen";

inline bool HaveSshKeygen() { return access(kSshKeygen, X_OK) == 0; }

// ssh-keygen refuses private keys readable by others.
inline constexpr mode_t kPrivateKeyMode = 0600;

}  // namespace gate::testing

#endif  // GATE_TESTS_UNIT_LIBGATE_SSH_TEST_UTIL_H_
