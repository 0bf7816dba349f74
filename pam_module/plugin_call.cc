// The plugin's side of plugin_abi.h, and the outcome mapping both sides use.
#include <array>
#include <string>
#include <vector>

#include "gate/log.h"
#include "gate/secret.h"
#include "pam_module/options.h"
#include "pam_module/plugin.h"

namespace gate::pam {
namespace {

// The call in progress on this thread, for the plugin's log lines.
thread_local const gate_pam_call* t_call = nullptr;

void ToHost(log::Level level, std::string_view line) {
  if (t_call == nullptr) return;
  const std::string text(line);
  t_call->log(t_call->host, static_cast<int>(level), text.c_str());
}

// The Conversation of factor.h over the host's functions.
class HostConversation final : public Conversation {
 public:
  explicit HostConversation(const gate_pam_call& call) : call_(call) {}

  bool PromptSecret(const std::string& prompt, SecretString* answer) override {
    // A PIN or an OTP code; anything longer is not an answer to either.
    std::array<char, 1024> buf{};
    const bool answered = call_.prompt_secret(call_.host, prompt.c_str(), buf.data(), buf.size());
    buf.back() = '\0';
    if (answered) answer->assign(buf.data());
    Wipe(buf.data(), buf.size());
    return answered;
  }
  void Info(const std::string& text) override { call_.info(call_.host, text.c_str()); }
  void Error(const std::string& text) override { call_.error(call_.host, text.c_str()); }

 private:
  const gate_pam_call& call_;
};

// Clears t_call however the call ends.
class CallScope {
 public:
  explicit CallScope(const gate_pam_call* call) { t_call = call; }
  ~CallScope() { t_call = nullptr; }
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;
};

bool UsableCall(const gate_pam_call* call) {
  // Only the two leading fields may be read before the version is known.
  return call != nullptr && call->abi_version == GATE_PAM_PLUGIN_ABI_VERSION &&
         call->struct_size >= sizeof(gate_pam_call) && call->log != nullptr &&
         call->prompt_secret != nullptr && call->info != nullptr && call->error != nullptr &&
         call->pam_user != nullptr && call->gate_user != nullptr && call->argc >= 0 &&
         (call->argc == 0 || call->argv != nullptr);
}

}  // namespace

int ToAbiOutcome(Outcome outcome) {
  int rv = GATE_PAM_OUTCOME_ERROR;
  switch (outcome) {
    case Outcome::kSuccess:
      rv = GATE_PAM_OUTCOME_SUCCESS;
      break;
    case Outcome::kFailure:
      rv = GATE_PAM_OUTCOME_FAILURE;
      break;
    case Outcome::kLockedOut:
      rv = GATE_PAM_OUTCOME_LOCKED_OUT;
      break;
    case Outcome::kNotEnrolled:
      rv = GATE_PAM_OUTCOME_NOT_ENROLLED;
      break;
    case Outcome::kUnavailable:
      rv = GATE_PAM_OUTCOME_UNAVAILABLE;
      break;
    case Outcome::kError:
      rv = GATE_PAM_OUTCOME_ERROR;
      break;
  }
  return rv;
}

Outcome FromAbiOutcome(int outcome) {
  Outcome rv = Outcome::kError;
  switch (outcome) {
    case GATE_PAM_OUTCOME_SUCCESS:
      rv = Outcome::kSuccess;
      break;
    case GATE_PAM_OUTCOME_FAILURE:
      rv = Outcome::kFailure;
      break;
    case GATE_PAM_OUTCOME_LOCKED_OUT:
      rv = Outcome::kLockedOut;
      break;
    case GATE_PAM_OUTCOME_NOT_ENROLLED:
      rv = Outcome::kNotEnrolled;
      break;
    case GATE_PAM_OUTCOME_UNAVAILABLE:
      rv = Outcome::kUnavailable;
      break;
    default:
      break;
  }
  return rv;
}

int RunPluginCall(const gate_pam_call* call, std::unique_ptr<Factor> (*make_factor)()) {
  int rv = GATE_PAM_OUTCOME_ERROR;
  // A call this build cannot read has no log function it could trust
  // either; the host logs the error outcome.
  if (!UsableCall(call)) return rv;
  try {
    CallScope scope(call);
    const int level = call->min_log_level;
    log::InitFunction(&ToHost, level >= GATE_PAM_LOG_DEBUG && level <= GATE_PAM_LOG_ERROR
                                   ? static_cast<log::Level>(level)
                                   : log::Level::kInfo);
    std::vector<std::string> args;
    for (int i = 0; i < call->argc; ++i) {
      args.emplace_back(call->argv[i] != nullptr ? call->argv[i] : "");
    }
    auto options = ParseOptions(args);
    if (!options) {
      log::Error("plugin: bad module arguments: " + options.error().message());
      return rv;
    }
    std::unique_ptr<Factor> factor = make_factor();
    if (!factor) return rv;
    HostConversation conversation(*call);
    FactorContext context{*options, conversation, call->pam_user, call->gate_user, {}};
    rv = ToAbiOutcome(factor->Authenticate(context));
  } catch (...) {
    rv = GATE_PAM_OUTCOME_ERROR;
  }
  return rv;
}

}  // namespace gate::pam
