// What the join authorizer reads about a process from /proc: its parent,
// its uids and when it started (files every process may read). Everything is read
// fresh on each call; a process that exits meanwhile is NotFound.
#ifndef GATE_RECORDER_JOIN_PROCESS_INFO_H_
#define GATE_RECORDER_JOIN_PROCESS_INFO_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "gate/status.h"

namespace gate::recorder {

struct ProcessInfo {
  pid_t pid = 0;
  pid_t ppid = 0;
  uid_t ruid = 0, euid = 0, suid = 0;
  // Unix time the process started, in seconds (boot time + starttime).
  std::int64_t started_at = 0;
};

// /proc/<pid>/stat (parent, start time) and /proc/<pid>/status (uids).
// NotFound if there is no such process; DataLoss if the files do not parse.
Result<ProcessInfo> ReadProcessInfo(pid_t pid);

// The first word of /proc/<pid>/cmdline (argv[0] as the process shows it;
// sshd rewrites it to "sshd: alice [priv]"). Anyone may read it; only the
// process itself (or who may trace it) can change it. NotFound if there is
// no such process; empty for a kernel thread or a zombie.
Result<std::string> ReadCommandName(pid_t pid);

}  // namespace gate::recorder

#endif  // GATE_RECORDER_JOIN_PROCESS_INFO_H_
