#include "ca-server/signer/syscall_filter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/futex.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gate/cptr.h"

namespace gate::ca {
namespace {

using FilterContext = CPtr<void, seccomp_release>;

// Names for the message, resolved before the filter is in force: the SIGSYS
// handler may not allocate, and libseccomp's lookup does.
constexpr int kNamedSyscalls = 512;
constexpr std::size_t kNameBytes = 32;
char g_syscall_names[kNamedSyscalls][kNameBytes];

#if defined(__x86_64__)
constexpr unsigned kX32SyscallBit = 0x40000000u;
#endif

// Appends to buf (async-signal-safe: no allocation, no locale).
class LineBuffer {
 public:
  void Add(const char* s) {
    while (*s != '\0' && used_ < sizeof(buf_)) buf_[used_++] = *s++;
  }
  void AddNumber(unsigned long long v, unsigned base) {
    char digits[24];
    int n = 0;
    do {
      digits[n++] = "0123456789abcdef"[v % base];
      v /= base;
    } while (v != 0 && n < static_cast<int>(sizeof(digits)));
    while (n > 0 && used_ < sizeof(buf_)) buf_[used_++] = digits[--n];
  }
  void WriteToStderr() const {
    std::size_t done = 0;
    while (done < used_) {
      const ssize_t w = ::write(STDERR_FILENO, buf_ + done, used_ - done);
      if (w <= 0 && errno != EINTR) return;
      if (w > 0) done += static_cast<std::size_t>(w);
    }
  }

 private:
  char buf_[256];
  std::size_t used_ = 0;
};

// The SIGSYS handler for SCMP_ACT_TRAP: says what was refused, in one line
// the admin sees on gate-ca's stderr (the journal under systemd), and stops.
// Never returns, so the refused call is never retried.
void OnForbiddenSyscall(int, siginfo_t* info, void*) {
  LineBuffer line;
  const unsigned arch = info->si_arch;
  const unsigned long long nr = static_cast<unsigned int>(info->si_syscall);
  line.Add("gate-ca: signer: forbidden system call ");
  bool named = false;
#if defined(__x86_64__)
  if (arch == AUDIT_ARCH_X86_64 && (nr & kX32SyscallBit) != 0) {
    line.AddNumber(nr & ~static_cast<unsigned long long>(kX32SyscallBit), 10);
    line.Add(" of the x32 ABI");
    named = true;
  } else if (arch == AUDIT_ARCH_I386) {
    line.AddNumber(nr, 10);
    line.Add(" of the i386 ABI");
    named = true;
  }
#endif
  if (!named) {
    if (nr < kNamedSyscalls && g_syscall_names[nr][0] != '\0') {
      line.Add(g_syscall_names[nr]);
      line.Add(" (");
      line.AddNumber(nr, 10);
      line.Add(")");
    } else {
      line.AddNumber(nr, 10);
      line.Add(" (audit arch 0x");
      line.AddNumber(arch, 16);
      line.Add(")");
    }
  }
  line.Add("; the signer stops, and gate-ca with it\n");
  line.WriteToStderr();
  ::_exit(kForbiddenSyscallExitCode);
}

void ResolveSyscallNames() {
  for (int nr = 0; nr < kNamedSyscalls; ++nr) {
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    if (name == nullptr) continue;
    std::strncpy(g_syscall_names[nr], name, kNameBytes - 1);
    g_syscall_names[nr][kNameBytes - 1] = '\0';
    std::free(name);
  }
}

struct Rule {
  int syscall;
  std::vector<scmp_arg_cmp> args;  // all must hold
  std::uint32_t action = SCMP_ACT_ALLOW;
};

std::vector<Rule> SignerRules(int front_end_fd) {
  const auto fd = static_cast<scmp_datum_t>(front_end_fd);
  const auto stderr_fd = static_cast<scmp_datum_t>(STDERR_FILENO);
  // No mapping or remapping may become executable: the signer runs no code
  // it did not start with.
  const scmp_arg_cmp no_exec = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
  const auto self = static_cast<scmp_datum_t>(::getpid());
  return {
      // The front end's frames (frame_io.cc: recv and send with flags), and
      // nothing else on any other descriptor.
      {SCMP_SYS(recvfrom), {SCMP_A0(SCMP_CMP_EQ, fd)}},
      {SCMP_SYS(sendto), {SCMP_A0(SCMP_CMP_EQ, fd)}},
      // The log (gate/log.h writes lines to stderr).
      {SCMP_SYS(write), {SCMP_A0(SCMP_CMP_EQ, stderr_fd)}},
      // SQLite on the descriptors it opened before the filter: pages,
      // POSIX locks (no F_SETFL, F_DUPFD, F_SETOWN...), commits (fdatasync,
      // and fsync for checkpoints), checkpoints shrinking the file
      // (ftruncate), file sizes (fstat, which glibc makes newfstatat) and its
      // check that the database was not moved (stat of the path). SQLite
      // reads and writes at offsets, so no read, write or lseek on them.
      {SCMP_SYS(pread64), {}},
      {SCMP_SYS(pwrite64), {}},
      {SCMP_SYS(fcntl), {SCMP_A1(SCMP_CMP_EQ, F_GETLK)}},
      {SCMP_SYS(fcntl), {SCMP_A1(SCMP_CMP_EQ, F_SETLK)}},
      {SCMP_SYS(fcntl), {SCMP_A1(SCMP_CMP_EQ, F_SETLKW)}},
      {SCMP_SYS(fdatasync), {}},
      {SCMP_SYS(fsync), {}},
      {SCMP_SYS(ftruncate), {}},
      {SCMP_SYS(newfstatat), {}},
      {SCMP_SYS(close), {}},
      // Denied, not fatal: SQLite opens the database's directory to fsync
      // it once per connection (the front end, which created the files, has
      // done so) and goes on without it; anything else it might open (a
      // temporary file) fails the request with an error. Either way no new
      // descriptor: the signer keeps the files it holds and no other.
      {SCMP_SYS(openat), {}, SCMP_ACT_ERRNO(EACCES)},
      {SCMP_SYS(open), {}, SCMP_ACT_ERRNO(EACCES)},
      // malloc and SQLite's shared-memory index (mapped as it grows).
      {SCMP_SYS(brk), {}},
      {SCMP_SYS(mmap), {no_exec}},
      {SCMP_SYS(mprotect), {no_exec}},
      {SCMP_SYS(mremap), {}},
      {SCMP_SYS(munmap), {}},
      {SCMP_SYS(madvise), {}},
      // Clocks (vDSO normally; the calls if it is missing), and SQLite's busy
      // handler sleeping while the front end holds the write lock.
      {SCMP_SYS(clock_gettime), {}},
      {SCMP_SYS(gettimeofday), {}},
      {SCMP_SYS(time), {}},
      {SCMP_SYS(clock_nanosleep), {}},
      {SCMP_SYS(nanosleep), {}},
      {SCMP_SYS(restart_syscall), {}},
      // OpenSSL reseeds its generator from the kernel (serials are random);
      // it and SQLite compare getpid() to notice a fork.
      {SCMP_SYS(getrandom), {}},
      {SCMP_SYS(getpid), {}},
      // pthread_once (OpenSSL's one-time set-ups) wakes waiters when done;
      // with one thread nothing else of futex is ever needed.
      {SCMP_SYS(futex), {SCMP_A1(SCMP_CMP_EQ, FUTEX_WAKE_PRIVATE)}},
      // abort() (a failed invariant) ends the process as SIGABRT says.
      {SCMP_SYS(rt_sigprocmask), {}},
      {SCMP_SYS(gettid), {}},
      {SCMP_SYS(tgkill), {SCMP_A0(SCMP_CMP_EQ, self), SCMP_A2(SCMP_CMP_EQ, SIGABRT)}},
      {SCMP_SYS(exit_group), {}},
      {SCMP_SYS(exit), {}},
  };
}

Status SeccompError(const std::string& what, int rc) {
  return Internal("seccomp: " + what + ": " + std::strerror(-rc));
}

}  // namespace

Status InstallSignerSyscallFilter(int front_end_fd) {
  if (front_end_fd < 0) return Internal("seccomp: no front end socket");
  ResolveSyscallNames();
  // glibc reads /etc/localtime on the first time conversion, even gmtime_r
  // (the log's timestamps): done now, while it can open it.
  ::tzset();
  // Installed before the filter, which forbids changing it afterwards.
  struct sigaction action {};
  action.sa_sigaction = OnForbiddenSyscall;
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  if (::sigaction(SIGSYS, &action, nullptr) != 0) {
    return Internal(std::string("seccomp: SIGSYS handler: ") + std::strerror(errno));
  }
  // TRAP rather than KILL_PROCESS: the call is refused all the same, and the
  // handler names it before the process goes, where a kill leaves only
  // "killed by SIGSYS". Blocking or ignoring SIGSYS does not help code that
  // would carry on: the kernel then kills the process.
  FilterContext ctx(seccomp_init(SCMP_ACT_TRAP));
  if (!ctx) return Internal("seccomp: cannot create a filter");
  // Only the native ABI: a call through another one (int 0x80 for i386)
  // would reach the kernel's table for that ABI, which the rules do not
  // describe. x32 calls carry the native architecture but a number with
  // bit 30 set, which no rule matches.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP); rc != 0) {
    return SeccompError("bad-arch action", rc);
  }
  for (const Rule& rule : SignerRules(front_end_fd)) {
    const int rc = seccomp_rule_add_array(ctx.get(), rule.action, rule.syscall,
                                          static_cast<unsigned int>(rule.args.size()),
                                          rule.args.empty() ? nullptr : rule.args.data());
    if (rc != 0) return SeccompError("rule for system call " + std::to_string(rule.syscall), rc);
  }
  if (int rc = seccomp_load(ctx.get()); rc != 0) return SeccompError("load", rc);
  return Status::Ok();
}

}  // namespace gate::ca
