// What the join authorizer reads about a process from /proc: its parent,
// its uids, when it started and which file it runs. Everything is read
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

// Device and inode of an executable file, to compare binaries by identity
// rather than by a name anyone can choose.
struct FileIdentity {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const FileIdentity&) const = default;
};

// stat(2) of path (following links, so "/proc/self/exe" names this binary).
Result<FileIdentity> IdentityOf(const std::string& path);

// The file /proc/<pid>/exe refers to. The kernel shows it only to processes
// that may ptrace pid (same uid, and pid dumpable, or CAP_SYS_PTRACE):
// PermissionDenied otherwise, NotFound if the process is gone.
Result<FileIdentity> ExeIdentity(pid_t pid);

}  // namespace gate::recorder

#endif  // GATE_RECORDER_JOIN_PROCESS_INFO_H_
