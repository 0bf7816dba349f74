// Starting the session's program: the user's login shell or command, in a
// new session on the pty's slave, or on inherited stdio (or pipes).
//
// The child is started held: it sets itself up (new session, controlling
// tty, stdio, dropping to the user) and then waits until Release() before
// it execs, so the recorder can drop its own privileges first. If the
// recorder dies before releasing it, the child exits 127 without running
// anything: there is no unrecorded session.
#ifndef GATE_RECORDER_SESSION_CHILD_H_
#define GATE_RECORDER_SESSION_CHILD_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "gate/status.h"
#include "gate/unique_fd.h"

namespace gate::recorder {

struct ChildSpec {
  std::string program;            // absolute path to exec
  std::vector<std::string> argv;  // argv[0] as the program sees it ("-bash")
  std::vector<std::string> env;   // the whole environment, "NAME=value"
  // >= 0: setsid, the master's slave becomes stdin/stdout/stderr and the
  // controlling terminal. -1: stdin/stdout/stderr are inherited, except
  // those replaced by stdin_fd / stdout_fd / stderr_fd when >= 0.
  int pty_master = -1;
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  // Become this user entirely before exec (DropPrivilegesFully), proving
  // `previous_uid` cannot be regained. nullopt: keep the ids as they are.
  struct User {
    uid_t uid;
    gid_t gid;
    uid_t previous_uid;
  };
  std::optional<User> become;
};

class Child {
 public:
  // Forks. The signal mask and dispositions are reset in the child, every
  // descriptor above 2 is closed before exec. A setup failure in the child
  // is reported on its stderr and it exits 127 (126 if exec failed for any
  // reason other than ENOENT), as a shell does.
  static Result<Child> Spawn(const ChildSpec& spec);

  pid_t pid() const { return pid_; }
  // Lets the child exec. Idempotent.
  void Release();

 private:
  Child(pid_t pid, UniqueFd release) : pid_(pid), release_(std::move(release)) {}
  pid_t pid_ = -1;
  UniqueFd release_;
};

// The exit status a shell would report for a waitpid() status:
// the exit code, or 128 + the signal number.
int ExitCodeOf(int wait_status);

// The "x" event's data: {"exit_status":N} or {"signal":"HUP"}.
std::string ExitJson(int wait_status);

}  // namespace gate::recorder

#endif  // GATE_RECORDER_SESSION_CHILD_H_
