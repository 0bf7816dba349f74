#include "recorder/session/child.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "recorder/session/privileges.h"
#include "recorder/session/pty.h"

namespace gate::recorder {
namespace {

// In the child after fork: write(2) only, then _exit.
[[noreturn]] void ChildFail(const char* what, int err, int code = 127) {
  char buf[512];
  const char* reason = err != 0 ? strerrordesc_np(err) : nullptr;
  int n = std::snprintf(buf, sizeof(buf), "gate-record: %s%s%s\r\n", what,
                        reason != nullptr ? ": " : "", reason != nullptr ? reason : "");
  if (n > 0) (void)!::write(STDERR_FILENO, buf, static_cast<std::size_t>(n));
  ::_exit(code);
}

void ResetSignals() {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    (void)::sigaction(sig, &dfl, nullptr);
  }
}

// Everything after fork() runs here; it never returns.
[[noreturn]] void RunChild(const ChildSpec& spec, char* const* argv, char* const* envp,
                           int release_fd) {
  ResetSignals();
  if (spec.pty_master >= 0 && ::setsid() < 0) ChildFail("setsid", errno);
  if (spec.become) {
    Status dropped =
        DropPrivilegesFully(spec.become->uid, spec.become->gid, spec.become->previous_uid);
    if (!dropped.ok()) ChildFail("cannot become the user", 0);
  }
  if (spec.pty_master >= 0) {
    auto slave = OpenPtySlave(spec.pty_master);
    if (!slave) ChildFail("cannot open the pty slave", errno);
    if (::ioctl(slave->get(), TIOCSCTTY, 0) != 0) ChildFail("TIOCSCTTY", errno);
    for (int fd = 0; fd <= 2; ++fd) {
      if (::dup2(slave->get(), fd) < 0) ChildFail("dup2", errno);
    }
    if (slave->get() <= 2) (void)slave->Release();
  } else {
    if (spec.stdin_fd >= 0 && ::dup2(spec.stdin_fd, STDIN_FILENO) < 0) ChildFail("dup2", errno);
    if (spec.stdout_fd >= 0 && ::dup2(spec.stdout_fd, STDOUT_FILENO) < 0) ChildFail("dup2", errno);
    if (spec.stderr_fd >= 0 && ::dup2(spec.stderr_fd, STDERR_FILENO) < 0) ChildFail("dup2", errno);
  }
  char go = 0;
  ssize_t n;
  do {
    n = ::read(release_fd, &go, 1);
  } while (n < 0 && errno == EINTR);
  // EOF: the recorder is gone, so nothing would record this session.
  if (n != 1) ::_exit(127);
  // The master, the recording, the key's memory is gone with exec, but its
  // descriptors would not be without close-on-exec: close them all.
  if (::syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
    for (int fd = 3; fd < 1024; ++fd) (void)::close(fd);
  }
  ::execve(spec.program.c_str(), argv, envp);
  const int err = errno;
  char what[300];
  std::snprintf(what, sizeof(what), "cannot run %.256s", spec.program.c_str());
  ChildFail(what, err, err == ENOENT ? 127 : 126);
}

std::vector<char*> CStrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const std::string& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

Result<Child> Child::Spawn(const ChildSpec& spec) {
  if (spec.program.empty() || spec.argv.empty()) return Err(InvalidArgument("nothing to run"));
  // Built before fork: the child only makes system calls.
  std::vector<char*> argv = CStrings(spec.argv);
  std::vector<char*> envp = CStrings(spec.env);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Err(Unavailable(std::string("pipe: ") + std::strerror(errno)));
  }
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  const pid_t pid = ::fork();
  if (pid < 0) return Err(Unavailable(std::string("fork: ") + std::strerror(errno)));
  if (pid == 0) {
    (void)write_end.Release();
    (void)::close(fds[1]);
    RunChild(spec, argv.data(), envp.data(), read_end.get());
  }
  return Child(pid, std::move(write_end));
}

void Child::Release() {
  if (!release_.valid()) return;
  const char go = 1;
  ssize_t n;
  do {
    n = ::write(release_.get(), &go, 1);
  } while (n < 0 && errno == EINTR);
  release_.Reset();
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

std::string ExitJson(int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    const char* name = sigabbrev_np(sig);
    return std::string("{\"signal\":\"") + (name != nullptr ? name : std::to_string(sig).c_str()) +
           "\"}";
  }
  return "{\"exit_status\":" + std::to_string(ExitCodeOf(wait_status)) + "}";
}

}  // namespace gate::recorder
