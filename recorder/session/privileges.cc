#include "recorder/session/privileges.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace gate::recorder {

ProcessIds CurrentIds() {
  ProcessIds ids;
  (void)::getresuid(&ids.ruid, &ids.euid, &ids.suid);
  (void)::getresgid(&ids.rgid, &ids.egid, &ids.sgid);
  return ids;
}

ScopedEuid::ScopedEuid(uid_t uid, gid_t gid) : saved_(::geteuid()), saved_gid_(::getegid()) {
  if (gid != static_cast<gid_t>(-1) && gid != saved_gid_) {
    if (::setegid(gid) != 0) {
      status_ = Internal("setegid(" + std::to_string(gid) + "): " + std::strerror(errno));
      return;
    }
    gid_changed_ = true;
  }
  if (uid == saved_) return;
  if (::seteuid(uid) != 0) {
    status_ = Internal("seteuid(" + std::to_string(uid) + "): " + std::strerror(errno));
    return;
  }
  changed_ = true;
}

ScopedEuid::~ScopedEuid() {
  // Cannot fail: saved_ and saved_gid_ are our saved ids. If it did, files
  // the recorder creates next would be the user's: stop rather than run on.
  if (changed_ && ::seteuid(saved_) != 0) std::abort();
  if (gid_changed_ && ::setegid(saved_gid_) != 0) std::abort();
}

Status DropPrivilegesFully(uid_t uid, gid_t gid, uid_t previous) {
  const ProcessIds now = CurrentIds();
  const bool same = now.ruid == uid && now.euid == uid && now.suid == uid && now.rgid == gid &&
                    now.egid == gid && now.sgid == gid;
  if (same) return Status::Ok();
  if (::setresgid(gid, gid, gid) != 0) {
    return Internal(std::string("setresgid: ") + std::strerror(errno));
  }
  if (::setresuid(uid, uid, uid) != 0) {
    return Internal(std::string("setresuid: ") + std::strerror(errno));
  }
  const ProcessIds after = CurrentIds();
  if (after.ruid != uid || after.euid != uid || after.suid != uid || after.rgid != gid ||
      after.egid != gid || after.sgid != gid) {
    return Internal("ids did not change as asked");
  }
  // Root keeps CAP_SETUID and may go back; anyone else must not be able to.
  if (uid != 0 && previous != uid &&
      ::setresuid(static_cast<uid_t>(-1), previous, static_cast<uid_t>(-1)) == 0) {
    return Internal("uid " + std::to_string(previous) + " could be taken back after the drop");
  }
  return Status::Ok();
}

}  // namespace gate::recorder
