// Running the few system programs gate-node needs (sshd -t, systemctl,
// useradd/userdel): no shell, a fixed environment, output captured.
#ifndef GATE_SSHD_HOOKS_NODE_PROCESS_H_
#define GATE_SSHD_HOOKS_NODE_PROCESS_H_

#include <chrono>
#include <string>
#include <vector>

#include "gate/status.h"

namespace gate::hooks {

struct ProcessResult {
  int exit_code = -1;  // -1 if it did not exit normally (signal, timeout)
  std::string output;  // stdout and stderr interleaved, at most 64 KiB kept
};

// Runs argv (argv[0] an absolute path, executed directly, not through a
// shell) with stdin from /dev/null and PATH=/usr/sbin:/usr/bin:/sbin:/bin,
// LC_ALL=C as its only environment, so the caller's environment cannot
// change what a root program does. Kills it after `timeout`. Returns the
// exit status and output; Unavailable if it could not be started (e.g. the
// program does not exist).
Result<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace gate::hooks

#endif  // GATE_SSHD_HOOKS_NODE_PROCESS_H_
