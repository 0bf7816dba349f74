// ToPamCode: the one place an Outcome becomes a PAM return code.
#include <security/pam_modules.h>

#include "pam_module/factor.h"

namespace gate::pam {

int ToPamCode(Outcome outcome, bool nullok) {
  // Start failed: only the two explicit cases below can change that.
  int rv = PAM_AUTH_ERR;
  switch (outcome) {
    case Outcome::kSuccess:
      rv = PAM_SUCCESS;
      break;
    case Outcome::kNotEnrolled:
      // "Not configured" lets the rest of the stack decide (PAM_IGNORE), and
      // only when the admin said so; never PAM_SUCCESS (CVE-2025-23013).
      rv = nullok ? PAM_IGNORE : PAM_AUTH_ERR;
      break;
    case Outcome::kLockedOut:
      rv = PAM_MAXTRIES;
      break;
    case Outcome::kUnavailable:
      rv = PAM_AUTHINFO_UNAVAIL;
      break;
    case Outcome::kFailure:
    case Outcome::kError:
      rv = PAM_AUTH_ERR;
      break;
  }
  return rv;
}

}  // namespace gate::pam
