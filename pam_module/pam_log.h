// pam_gate's log lines go through pam_syslog(3), never openlog(3): the module
// runs inside sshd, sudo or login, and openlog would rename that program's
// syslog identity (and close its connection) for the rest of its life.
// pam_syslog prefixes each line with "pam_gate(SERVICE:auth): " and leaves
// the application's ident, facility and options as they were.
#ifndef GATE_PAM_PAM_LOG_H_
#define GATE_PAM_PAM_LOG_H_

#include <security/pam_modules.h>

#include "gate/log.h"

namespace gate::pam {

// While alive, gate::log lines written on this thread go to pam_syslog on
// pamh at min_level and above (lines from other threads, which a PAM module
// never starts, go to syslog(3) under the application's own ident). Borrows
// pamh, which must outlive this object. One per pam_sm_* call; not nestable.
class ScopedPamLog {
 public:
  ScopedPamLog(pam_handle_t* pamh, log::Level min_level);
  ~ScopedPamLog();
  ScopedPamLog(const ScopedPamLog&) = delete;
  ScopedPamLog& operator=(const ScopedPamLog&) = delete;

  // Once the options are known (debug lowers it to kDebug).
  void SetMinLevel(log::Level min_level);
};

}  // namespace gate::pam

#endif  // GATE_PAM_PAM_LOG_H_
