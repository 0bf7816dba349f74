// Who is being recorded: the Gate user behind this SSH session, from what
// sshd exposed (ExposeAuthInfo: the file named by SSH_USER_AUTH holds one
// line per completed method, "publickey ssh-ed25519-cert-v01@openssh.com
// AAAA..."), checked against the node's own cache as gate-principals
// checks it. The recorder is setuid, so it trusts nothing the user could
// have written: the certificate's signature is verified here, its CA must
// be in the cached user_ca.pub, it must be valid now, and the cached policy
// must allow its key id to log in as this OS account.
#ifndef GATE_RECORDER_SESSION_IDENTITY_H_
#define GATE_RECORDER_SESSION_IDENTITY_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "gate/node_cache.h"
#include "gate/status.h"

namespace gate::recorder {

struct Identity {
  std::string user;          // Gate user: the certificate's key id
  std::string login;         // OS account
  std::uint64_t serial = 0;  // the certificate's serial
  std::string cluster;       // from the policy cache
  // The certificate carries permit-port-forwarding.
  bool permit_port_forwarding = false;
};

// sshd writes a few lines; anything larger is not from sshd.
inline constexpr std::size_t kMaxAuthInfoSize = 64 * 1024;

// Pure apart from reading the cache: the identity for `login` from the
// text of the SSH_USER_AUTH file. PermissionDenied with a short reason
// (for the user's one-line message and the log) when there is no
// certificate line, more than one certificate, a certificate that does
// not parse or verify, a host certificate, one not valid at `now`, one
// that does not list `login` as a principal, one signed by a CA not in the
// cache, an unreadable or unsafe cache, or a policy that denies the login.
Result<Identity> ResolveIdentity(std::string_view auth_info, const std::string& login,
                                 const node::CacheLocation& cache, std::int64_t now);

// The text of the SSH_USER_AUTH file at path, as sshd leaves it: opened
// with OpenSecureFile (no symlink, a regular file owned by `user`, mode
// 0600 or stricter, at most kMaxAuthInfoSize). The caller runs this with
// the user's effective uid, so a path the user could not read is refused.
// PermissionDenied ("cannot read SSH_USER_AUTH: ...") on any failure.
Result<std::string> ReadAuthInfoFile(const std::string& path, uid_t user);

// What CheckStartedBySshd learns about one process.
struct ProcessView {
  pid_t ppid = 0;
  uid_t ruid = 0, euid = 0, suid = 0;
  std::string argv0;  // the first word of its command line
};
// A process by pid: NotFound if there is none.
using ProcessLookup = std::function<Result<ProcessView>(pid_t)>;

// Whether sshd started this recorder for a session it authenticated, so
// that the SSH_USER_AUTH file names the identity sshd proved and not one a
// user copied. sshd's privilege-separated session process (running as
// `user`) forks the session, which runs "SHELL -c FORCECOMMAND"; the shell
// may exec the recorder (bash) or fork it (dash). So: the recorder's
// parent, or the parent's parent when the parent is a process of `user`
// not named like sshd (the login shell, not the session's child before it
// execs the shell, which runs ~/.ssh/rc), must be a process of `user` (all
// three uids) whose own parent is a root process (all three uids 0) whose
// argv[0] starts with "sshd" (the monitor, "sshd: alice [priv]"). A user can change the command
// line of their own processes, not of root's, and cannot make a root sshd process the parent of a
// process of their choosing. Refused (PermissionDenied, saying the recorder was not started by
// sshd): a recorder run by hand or nested in another session, or started from ~/.ssh/rc; also any
// process that vanished or could not be read.
Status CheckStartedBySshd(pid_t parent, uid_t user, const ProcessLookup& lookup);
// The same, reading /proc.
Status CheckStartedBySshd(pid_t parent, uid_t user);

}  // namespace gate::recorder

#endif  // GATE_RECORDER_SESSION_IDENTITY_H_
