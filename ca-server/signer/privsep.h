// Privilege separation for gate-ca (docs/security.md, "Processes"): the OS
// calls that turn one root process into a front end running as `gate` and a
// signer with no capabilities, and the data-dir ownership both rely on.
// Linux only. Not thread-safe: call these before any thread starts.
#ifndef GATE_CA_SIGNER_PRIVSEP_H_
#define GATE_CA_SIGNER_PRIVSEP_H_

#include <sys/types.h>

#include <functional>
#include <string>

#include "gate/status.h"

namespace gate::ca {

inline constexpr char kFrontEndUser[] = "gate";
inline constexpr char kSignerUser[] = "gate-signer";

struct SystemUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// The passwd entry of name. FailedPrecondition saying how to create the
// user if there is none (or it is root: gate never runs a piece as root
// under another name).
Result<SystemUser> LookUpSystemUser(const std::string& name);

// Run as root: makes data_dir (created 0700 if missing) and everything in it
// owned by front_end, except ca/, which is created (root, 0700) or checked:
// a ca/ that is a symlink, not a directory, not owned by root or open to
// group/others is refused with the command that fixes it (an earlier gate-ca
// ran as `gate`, or the front end replaced it; the message says how to check
// the keys before adopting them). Never follows a symlink in data_dir.
Status PrepareDataDir(const std::string& data_dir, const SystemUser& front_end);

// Runs fn with the effective uid/gid of user (the real and saved ids stay
// root), then restores them. For creating files the front end must own.
Status RunWithEffectiveIds(const SystemUser& user, const std::function<Status()>& fn);

// Drops to user for good: no supplementary groups, real/effective/saved gid
// and uid all user's; verified afterwards (and that uid 0 cannot be
// regained). Clears the capability bounding set first where permitted.
// Internal if any step fails: the caller must exit.
Status DropToUser(const SystemUser& user);

// For both processes: not dumpable (no core file, no ptrace or /proc/PID/mem
// by the same uid), no core files (RLIMIT_CORE 0), no_new_privs.
Status HardenProcess();

// For the signer after it has opened everything it will ever use: no new
// processes or threads (RLIMIT_NPROC 0), descriptors capped a little above
// those already open (RLIMIT_NOFILE), and no capabilities left (checked in
// /proc/self/status). Internal if any step fails.
Status ConfineSigner();

}  // namespace gate::ca

#endif  // GATE_CA_SIGNER_PRIVSEP_H_
