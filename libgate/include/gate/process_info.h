// What gate reads about a process from /proc: its parent, its session, its
// uids and when it started (files every process may read). The recorder's
// join authorizer and gate-node's session reaper (which finds the sessions a
// lock ends) use it. Everything is read fresh on each call; a process that
// exits meanwhile is NotFound.
#ifndef GATE_PROCESS_INFO_H_
#define GATE_PROCESS_INFO_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "gate/status.h"

namespace gate::proc {

struct ProcessInfo {
  pid_t pid = 0;
  pid_t ppid = 0;
  pid_t sid = 0;  // the session (setsid) the process belongs to
  uid_t ruid = 0, euid = 0, suid = 0;
  // Unix time the process started, in seconds (boot time + starttime).
  std::int64_t started_at = 0;
};

// /proc/<pid>/stat (parent, session, start time) and /proc/<pid>/status (uids).
// NotFound if there is no such process; DataLoss if the files do not parse.
Result<ProcessInfo> ReadProcessInfo(pid_t pid);

// The first word of /proc/<pid>/cmdline (argv[0] as the process shows it;
// sshd rewrites it to "sshd: alice [priv]"). Anyone may read it; only the
// process itself (or who may trace it) can change it. NotFound if there is
// no such process; empty for a kernel thread or a zombie.
Result<std::string> ReadCommandName(pid_t pid);

// Whether the process's real, effective and saved uids are all uid (a
// recorder runs as gate-rec alone; a process still holding a user's uid is
// not one).
bool RunsOnlyAs(const ProcessInfo& info, uid_t uid);

// Whether argv[0] (ReadCommandName) names sshd: its last path component,
// up to the first space, starts with "sshd" ("sshd: alice [priv]",
// "sshd-session: alice@pts/0", "/usr/sbin/sshd -D").
bool NamedSshd(std::string_view argv0);

}  // namespace gate::proc

#endif  // GATE_PROCESS_INFO_H_
