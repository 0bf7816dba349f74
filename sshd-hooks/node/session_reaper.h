// Ending the live sessions a lock or a revocation covers (docs/node-setup.md,
// "Locks end sessions"). `gate-node sync` runs it after every successful
// cache install, with the snapshot it installed, so a lock ends the user's
// open sessions within one sync interval.
//
// Two kinds of session, found two ways:
//  - recorded sessions: the entries of the recorders' run directory, each
//    matched to its recorder process the way the join authorizer does (all
//    three uids the recorders', entry written after the process started).
//    The recorder is signalled (SIGUSR1 through a pidfd opened and checked
//    first, so a reused pid is never signalled); it re-reads the cache
//    itself, tells the user why, records it and hangs the session up. A
//    recorder still running after the grace period has its session's
//    processes killed and its sshd connection ended, as below.
//  - sessions without the recorder: every session sshd started is a
//    session leader (setsid) whose parent is the connection's sshd process
//    running as the user, itself the child of a root sshd process (the
//    privilege-separation monitor). With ExposeAuthInfo (gate's drop-in
//    sets it), the session's environment names the SSH_USER_AUTH file that
//    holds the certificate sshd accepted; its key id is the Gate user and
//    its serial the one revocations name. A covered session's processes
//    (those still in its kernel session) get SIGHUP and SIGTERM, then the
//    connection's sshd process SIGTERM (never the listener or the
//    monitor of another connection).
//
// Nothing else is signalled: a session is ended only when its own identity
// (the recorder's entry, or its own auth file) is covered, so another Gate
// user's session under the same OS login goes on.
#ifndef GATE_SSHD_HOOKS_NODE_SESSION_REAPER_H_
#define GATE_SSHD_HOOKS_NODE_SESSION_REAPER_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gate/ed25519.h"
#include "gate/policy.h"
#include "gate/session_cover.h"
#include "gate/status.h"

namespace gate::node {

// One live SSH session, as found on the node.
struct LiveSshSession {
  std::string user;  // Gate user: the certificate's key id
  std::uint64_t serial = 0;
  std::string login;  // OS account
  bool recorded = false;
  std::string session_id;  // recorded sessions: the recording's id
  pid_t recorder_pid = 0;  // recorded sessions
  pid_t leader_pid = 0;    // the session's first process (kernel session id)
  pid_t sshd_pid = 0;      // the connection's sshd process running as the user
  std::int64_t leader_started_at = 0;
  std::int64_t sshd_started_at = 0;
  std::int64_t recorder_started_at = 0;

  // "session 6f1c… (recorded)" or "sshd pid 1234", for log lines.
  std::string Describe() const;
};

struct CoveredSession {
  LiveSshSession session;
  policy::SessionEndReason reason;
};

// The sessions of `live` that a lock or revocation in snapshot covers at
// now (policy::CoveredByLockOrRevocation on each session's own user and
// serial), in order. Pure.
std::vector<CoveredSession> SessionsToEnd(const policy::Snapshot& snapshot,
                                          const std::vector<LiveSshSession>& live,
                                          std::int64_t now);

// The value of SSH_USER_AUTH in a /proc/<pid>/environ image (NUL-separated
// NAME=VALUE), if it is there and an absolute path; nullopt otherwise.
std::optional<std::string> AuthInfoPathFromEnviron(std::string_view environ);

// The Gate user (key id) and serial of the one certificate in an
// SSH_USER_AUTH file's text, if a CA in user_cas (the node's cached user CA
// keys) signed it. InvalidArgument when the file holds no certificate (a
// session gate did not authenticate), more than one, one that does not
// parse or verify, or one of another CA (a session of another CA's "alice"
// is not gate's alice's).
struct CertificateName {
  std::string user;
  std::uint64_t serial = 0;
};
Result<CertificateName> SessionCertificate(std::string_view auth_info,
                                           const std::vector<ssh::Ed25519PublicKey>& user_cas);

struct ReaperConfig {
  // The recorders' run directory and uid; no run_dir: the node does not
  // record (then only sessions without the recorder are looked for).
  std::string run_dir;
  std::optional<uid_t> recorder_uid;
  // The node's user CA keys (cache/user_ca.pub): only sessions of
  // certificates they signed are gate's. Empty: sessions without the
  // recorder are not looked for.
  std::vector<ssh::Ed25519PublicKey> user_cas;
  // How long a signalled recorder has to end its session before its
  // session's processes are killed from here.
  std::chrono::milliseconds grace{5000};
};

struct ReapReport {
  std::size_t live = 0;             // gate sessions found
  std::vector<std::string> ended;   // one line per session ended
  std::vector<std::string> errors;  // what could not be looked at or ended
};

// Finds the node's live gate sessions, ends those the snapshot covers at
// now, and reports each (the caller logs). A snapshot without locks or
// revoked serials covers nothing, and no process is looked at. Needs root (reading other
// users' /proc/<pid>/environ and auth files, signalling their processes).
// Never fails as a whole: what cannot be read or signalled is in errors.
ReapReport EndCoveredSessions(const policy::Snapshot& snapshot, const ReaperConfig& config,
                              std::int64_t now);

}  // namespace gate::node

#endif  // GATE_SSHD_HOOKS_NODE_SESSION_REAPER_H_
