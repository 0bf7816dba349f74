// pam_gate.so entry points. Everything else lives behind factor.h; this file
// only parses the options, picks the factor, applies offline= and maps the
// Outcome through ToPamCode. It leaves the application as it found it: log
// lines go through pam_syslog (pam_log.h), and PAM_SILENT silences every
// message but the prompts. Each entry point catches everything and starts
// from a failure code, so no path can leave it with PAM_SUCCESS by accident.
#define PAM_SM_AUTH
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include <memory>
#include <string>
#include <vector>

#include "gate/log.h"
#include "pam_module/auth_info.h"
#include "pam_module/conversation.h"
#include "pam_module/factor.h"
#include "pam_module/options.h"
#include "pam_module/pam_log.h"
#include "pam_module/plugin.h"

namespace gate::pam {
namespace {

std::string_view FactorName(const Options& o) {
  if (o.second_factor == SecondFactor::kU2f) return "u2f";
  return o.source == Source::kLocal ? "local OTP" : "central OTP";
}

// The factor table: (second_factor, source) -> factor. FIDO2 comes from a
// plugin, loaded only here (plugin.h), which parses `args` itself.
std::unique_ptr<Factor> MakeFactor(const Options& o, const std::vector<std::string>& args) {
  const log::Level level = o.debug ? log::Level::kDebug : log::Level::kInfo;
  switch (o.second_factor) {
    case SecondFactor::kU2f:
      return LoadPluginFactor(kFidoPlugin, args, level);
    case SecondFactor::kOtp:
      return o.source == Source::kLocal ? MakeLocalOtp() : MakeCentralOtp();
    case SecondFactor::kOff:
      break;
  }
  return nullptr;
}

int Authenticate(pam_handle_t* pamh, int flags, int argc, const char** argv) {
  int rv = PAM_AUTH_ERR;
  std::vector<std::string> args;
  for (int i = 0; i < argc; ++i) args.emplace_back(argv[i] != nullptr ? argv[i] : "");

  // Before the options are known, log at info; `debug` lowers it below.
  ScopedPamLog pam_log(pamh, log::Level::kInfo);
  auto options = ParseOptions(args);
  if (!options) {
    // Fail closed whatever else the line says (nullok included): a typo in
    // /etc/pam.d must not switch the second factor off.
    log::Error("refusing: bad module arguments: " + options.error().message());
    return rv;
  }
  if (options->debug) pam_log.SetMinLevel(log::Level::kDebug);
  if (options->second_factor == SecondFactor::kOff) {
    log::Debug("second_factor=off; ignoring");
    return PAM_IGNORE;
  }

  const char* user_c = nullptr;
  if (pam_get_user(pamh, &user_c, nullptr) != PAM_SUCCESS || user_c == nullptr || *user_c == '\0') {
    log::Error("cannot determine the user");
    return rv;
  }
  const std::string pam_user = user_c;
  auto gate_user = GateUserFor(pamh, pam_user);
  if (!gate_user) {
    log::Error("refusing " + pam_user + ": " + gate_user.error().message());
    return rv;
  }
  log::Debug("" + pam_user + " as gate user " + *gate_user + " with " +
             std::string(FactorName(*options)));

  PamConversation conversation(pamh, (flags & PAM_SILENT) != 0);
  FactorContext context{*options, conversation, pam_user, *gate_user, {}};
  std::unique_ptr<Factor> factor = MakeFactor(*options, args);
  if (!factor) return rv;
  Outcome outcome = factor->Authenticate(context);

  if (outcome == Outcome::kUnavailable && options->second_factor == SecondFactor::kOtp &&
      options->source == Source::kCentral && options->offline == Offline::kLocal) {
    log::Warning("gate-ca unreachable; offline=local: using local OTP for " + *gate_user);
    conversation.Info("Gate is unreachable; checking this host's local OTP instead.");
    outcome = MakeLocalOtp()->Authenticate(context);
  }

  rv = ToPamCode(outcome, options->nullok);
  if (outcome == Outcome::kNotEnrolled) {
    log::Info("" + *gate_user + " has no " + std::string(FactorName(*options)) +
              (options->nullok ? " (nullok: ignoring)" : " (denied; nullok not set)"));
  }
  return rv;
}

}  // namespace
}  // namespace gate::pam

extern "C" {

PAM_EXTERN int pam_sm_authenticate(pam_handle_t* pamh, int flags, int argc, const char** argv) {
  int rv = PAM_AUTH_ERR;
  try {
    rv = gate::pam::Authenticate(pamh, flags, argc, argv);
  } catch (...) {
    rv = PAM_AUTH_ERR;
  }
  return rv;
}

// pam_gate sets no credentials. PAM_SUCCESS here is not an authentication
// result: libpam only calls setcred after the auth stack has decided, and
// returning an error would make `pam_setcred` fail for every user whose
// stack includes pam_gate (pam_u2f, pam_oath and pam_google_authenticator do
// the same).
PAM_EXTERN int pam_sm_setcred(pam_handle_t* pamh, int flags, int argc, const char** argv) {
  (void)pamh;
  (void)flags;
  (void)argc;
  (void)argv;
  return PAM_SUCCESS;
}

}  // extern "C"
