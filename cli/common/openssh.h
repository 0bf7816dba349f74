// Running OpenSSH (ssh, scp) with a gate profile: its key and certificate,
// the cluster-scoped known_hosts, and strict host key checking, given on
// the command line so no ssh_config needs editing (gate ssh, gate scp).
#ifndef GATE_CLI_COMMON_OPENSSH_H_
#define GATE_CLI_COMMON_OPENSSH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "cli/common/profile.h"
#include "gate/status.h"

namespace gate::cli {

// The profile in store if its certificate can be used at now. NotFound
// "not logged in; run: gate login ..." when there is none (also after gate
// logout); FailedPrecondition naming the expiry, or the start when gate-ca's
// clock was ahead, with "run gate login".
Result<Profile> UsableProfile(const ProfileStore& store, std::int64_t now);

// "-o" pairs for ssh and scp: IdentityFile, CertificateFile,
// UserKnownHostsFile, IdentitiesOnly=yes, StrictHostKeyChecking=yes (a host
// the cluster's CA has not certified is refused, never offered for trust).
std::vector<std::string> OpenSshOptions(const ProfileStore& store);

// Runs argv (argv[0] from PATH) with this process's stdio and waits for it.
// Returns its exit status, 128+N if signal N ended it; Unavailable if it
// could not be started. SIGINT and SIGQUIT go to the child only (they
// reach it from the terminal), so gate outlives it to explain a failure.
Result<int> RunAndWait(const std::vector<std::string>& argv);

}  // namespace gate::cli

#endif  // GATE_CLI_COMMON_OPENSSH_H_
