// The recorder's two identities (docs/recording.md, "Why a setuid recorder
// user"): installed setuid to gate-rec, it starts with real uid = the
// logged-in user and effective and saved uid = gate-rec. It acts as the
// user only where the user's own rights must apply (reading SSH_USER_AUTH,
// opening the pty), the shell becomes the user entirely, and the recorder
// becomes gate-rec entirely. Run by root or without the setuid bit, real
// and effective uid are equal and nothing changes (nor is anything
// protected from the user).
#ifndef GATE_RECORDER_SESSION_PRIVILEGES_H_
#define GATE_RECORDER_SESSION_PRIVILEGES_H_

#include <sys/types.h>

#include "gate/status.h"

namespace gate::recorder {

struct ProcessIds {
  uid_t ruid = 0, euid = 0, suid = 0;
  gid_t rgid = 0, egid = 0, sgid = 0;

  // Started setuid: the real user differs from the recorder's user.
  bool setuid() const { return ruid != euid; }
};

ProcessIds CurrentIds();

// Sets the effective uid to `uid` (and, unless gid is -1, the effective gid
// to `gid` first) for the scope and back on destruction. Acting as the
// user takes both: the recorder is setgid to the cache's group, which must
// not lend the user its access (a pty slave created under it would get that
// group on a devpts without gid=). ok() is false if a switch failed (the
// caller must not go on).
class ScopedEuid {
 public:
  explicit ScopedEuid(uid_t uid, gid_t gid = static_cast<gid_t>(-1));
  ~ScopedEuid();
  ScopedEuid(const ScopedEuid&) = delete;
  ScopedEuid& operator=(const ScopedEuid&) = delete;
  [[nodiscard]] Status status() const { return status_; }

 private:
  uid_t saved_;
  gid_t saved_gid_;
  bool changed_ = false;
  bool gid_changed_ = false;
  Status status_;
};

// setresgid(gid x3) then setresuid(uid x3), then proves the change is
// permanent: all three ids read back as asked, and trying to take back
// `previous` (the uid we had) fails. Internal naming the step otherwise;
// the caller must then exit without running anything. No-op if the
// process already runs with exactly these ids.
Status DropPrivilegesFully(uid_t uid, gid_t gid, uid_t previous);

}  // namespace gate::recorder

#endif  // GATE_RECORDER_SESSION_PRIVILEGES_H_
