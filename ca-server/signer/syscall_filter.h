// The signer's system call allow-list (seccomp-bpf, docs/security.md,
// "Processes"): the last step of its confinement, after ConfineSigner, once
// it holds every descriptor it will ever use (the front end's socket, its
// database connections). Linux only; the native architecture only.
#ifndef GATE_CA_SIGNER_SYSCALL_FILTER_H_
#define GATE_CA_SIGNER_SYSCALL_FILTER_H_

#include "gate/status.h"

namespace gate::ca {

// The exit status of a signer stopped by the filter (128 + SIGSYS, as a
// shell reports a process killed by that signal).
inline constexpr int kForbiddenSyscallExitCode = 159;

// Installs the filter on the calling process for good (it cannot be lifted
// or loosened, and is inherited by nothing since the signer can make no
// process). Allowed afterwards, and nothing else:
//   - recvfrom/sendto on front_end_fd only, write on stderr only (the log);
//   - reading, writing, locking, syncing, truncating and stat-ing files it
//     already holds (SQLite's descriptors), and closing descriptors;
//   - memory management without PROT_EXEC, the clocks, sleeping (SQLite's
//     busy wait), getrandom (OpenSSL's reseeding), getpid, waking futex
//     waiters (pthread_once), exit;
//   - abort() reporting itself (SIGABRT to itself only).
// open/openat fail with EACCES instead: SQLite opens the database's
// directory to fsync it once per connection and carries on without it, and
// any other file it might want is refused as an error, not a crash.
//
// Any other call, a call from another ABI (i386, x32), or an allowed call
// with other arguments is not made: the process writes
// "gate-ca: signer: forbidden system call N ..." to stderr (with write(2),
// from a SIGSYS handler) and exits with kForbiddenSyscallExitCode, so the
// front end stops gate-ca with that line beside its own.
//
// Requires no_new_privs (HardenProcess) or CAP_SYS_ADMIN. Internal if the
// kernel or libseccomp refuses the filter; the caller must exit.
// Not thread-safe: the signer has exactly one thread.
Status InstallSignerSyscallFilter(int front_end_fd);

}  // namespace gate::ca

#endif  // GATE_CA_SIGNER_SYSCALL_FILTER_H_
