// One second factor. pam_gate.cc picks the factor from the options and maps
// its Outcome to a PAM return code in exactly one place (ToPamCode), so an
// error can never become PAM_SUCCESS.
#ifndef GATE_PAM_FACTOR_H_
#define GATE_PAM_FACTOR_H_

#include <security/pam_modules.h>

#include <memory>
#include <string>

#include "gate/secret.h"
#include "pam_module/options.h"

namespace gate::pam {

enum class Outcome {
  kSuccess,      // the factor was proven
  kFailure,      // wrong, reused, expired code; wrong key; no user presence
  kLockedOut,    // too many failures; nothing was checked
  kNotEnrolled,  // the user has no factor of this kind
  kUnavailable,  // gate-ca unreachable (central); offline= decides
  kError,        // anything else: bad files, bad state, library failures
};

// PAM_SUCCESS only for kSuccess; PAM_IGNORE only for kNotEnrolled with nullok;
// everything else a failure code (PAM_AUTH_ERR, PAM_MAXTRIES,
// PAM_AUTHINFO_UNAVAIL). Table-tested.
int ToPamCode(Outcome outcome, bool nullok);

// Asking the user through the application's PAM conversation.
class Conversation {
 public:
  virtual ~Conversation() = default;
  // Echo-off prompt ("Enter your OTP token: "). True with the answer in
  // *answer; false (answer untouched) when there is none.
  virtual bool PromptSecret(const std::string& prompt, SecretString* answer) = 0;
  // Messages for the user; an application that passed PAM_SILENT gets none.
  virtual void Info(const std::string& text) = 0;
  virtual void Error(const std::string& text) = 0;
};

struct FactorContext {
  const Options& options;
  Conversation& conversation;
  std::string pam_user;  // the account being logged into
  // The gate user to check: the key id of the certificate sshd accepted
  // (SSH_AUTH_INFO_0, ExposeAuthInfo) when there is one, else pam_user.
  std::string gate_user;
  // An OTP code the user has already typed in this call. The central factor
  // leaves it here, so offline=local checks the same code instead of asking
  // a second time; an OTP factor that finds it set does not prompt.
  SecretString typed_otp;
};

class Factor {
 public:
  virtual ~Factor() = default;
  virtual Outcome Authenticate(FactorContext& context) = 0;
};

std::unique_ptr<Factor> MakeLocalOtp();
std::unique_ptr<Factor> MakeCentralOtp();
std::unique_ptr<Factor> MakeFido();

}  // namespace gate::pam

#endif  // GATE_PAM_FACTOR_H_
