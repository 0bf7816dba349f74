// Checking and reloading the node's sshd. A reload makes sshd re-execute
// itself with the new configuration, and a configuration that does not load
// takes the SSH server down, so every reload here is preceded by `sshd -t`.
#ifndef GATE_SSHD_HOOKS_NODE_SSHD_H_
#define GATE_SSHD_HOOKS_NODE_SSHD_H_

#include <string>

#include "gate/status.h"

namespace gate::hooks {

inline constexpr char kDefaultSshdPidfile[] = "/run/sshd.pid";

// `<binary> -t -f <config>`. OK if sshd accepts the whole configuration
// (with its Include'd drop-ins); FailedPrecondition carrying sshd's own
// error output otherwise; Unavailable if sshd cannot be run at all.
Status TestSshdConfig(const std::string& binary, const std::string& config);

// `<binary> -T -f <config>` and looks for the effective line
// "<keyword lower-case> <value>". True if present: the drop-in is in force;
// false if sshd prints something else (the main config does not Include the
// drop-in directory, or sets the keyword first: sshd keeps the first value
// it reads). Errors if sshd -T fails.
Result<bool> SshdEffectiveSettingIs(const std::string& binary, const std::string& config,
                                    const std::string& keyword, const std::string& value);

// How to make sshd re-read its configuration and host certificate.
struct ReloadMethod {
  enum class Kind { kNone, kSystemd, kPidfile };
  Kind kind = Kind::kNone;
  std::string pidfile;  // kPidfile: the file holding sshd's pid
};

// --no-reload -> kNone; --sshd-pidfile P -> kPidfile P; otherwise
// `systemctl reload ssh` if systemd is running (/run/systemd/system exists),
// else the pid in /run/sshd.pid.
ReloadMethod ChooseReloadMethod(bool no_reload, const std::string& pidfile_flag);

// Human words for the method, for gate-node's summary ("SIGHUP to sshd (pid
// from /run/sshd.pid)").
std::string DescribeReloadMethod(const ReloadMethod& method);

// Reloads. kPidfile: the pidfile must be owned by this euid and not writable
// by others (it decides which process we signal), the pid must be > 1 and
// name a running process called "sshd" (/proc/PID/comm: a stale pidfile
// must not make us signal whatever reused the pid); then SIGHUP. kSystemd: runs
// systemctl reload ssh. kNone: nothing. Errors say what failed.
Status ReloadSshd(const ReloadMethod& method);

}  // namespace gate::hooks

#endif  // GATE_SSHD_HOOKS_NODE_SSHD_H_
