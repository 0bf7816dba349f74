#include "pam_module/otp_local.h"

#include <liboath/oath.h>

#include <ctime>
#include <mutex>

#include "gate/log.h"
#include "gate/names.h"
#include "gate/secret.h"
#include "pam_module/user_file.h"

namespace gate::pam {
namespace {

constexpr int kStepSeconds = 30;  // RFC 6238's default; every authenticator app uses it
constexpr const char* kPrompt = "Enter your OTP token: ";

void InitOath() {
  // oath_init only sets up gnulib's crypto; it must run once before use and
  // oath_done is never needed for a library that stays loaded.
  static std::once_flag once;
  std::call_once(once, [] { (void)oath_init(); });
}

bool WellFormedCode(std::string_view code) {
  if (code.size() != 6 && code.size() != 8) return false;
  for (char c : code) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// The code entry would show for `step`, into out (digits + NUL).
bool Generate(const authfile::Entry& entry, std::int64_t step, char* out) {
  const int flags = entry.totp.algorithm == "sha256" ? OATH_TOTP_HMAC_SHA256 : 0;
  return oath_totp_generate2(entry.totp.secret.data(), entry.totp.secret.size(),
                             static_cast<time_t>(step * kStepSeconds), kStepSeconds, 0,
                             static_cast<unsigned>(entry.totp.digits), flags, out) == OATH_OK;
}

}  // namespace

LocalOtp::LocalOtp(Clock clock) : clock_(std::move(clock)) {}

Outcome LocalOtp::CheckLockout(const Options& options, const std::string& gate_user) {
  auto lock = otp::StateLock::Acquire(options.state_dir, gate_user);
  if (!lock) {
    log::Error("OTP state for " + gate_user + ": " + lock.error().message());
    return Outcome::kError;
  }
  auto state = otp::LoadState(options.state_dir, gate_user);
  if (!state) {
    log::Error("OTP state for " + gate_user + ": " + state.error().message());
    return Outcome::kError;
  }
  return state->locked_until > clock_() ? Outcome::kLockedOut : Outcome::kSuccess;
}

Outcome LocalOtp::Verify(const Options& options, const std::string& gate_user,
                         const std::vector<authfile::Entry>& entries, std::string_view code,
                         std::string* why) {
  auto say = [why](const char* text) {
    if (why != nullptr) *why = text;
  };
  InitOath();
  auto lock = otp::StateLock::Acquire(options.state_dir, gate_user);
  if (!lock) {
    log::Error("OTP state for " + gate_user + ": " + lock.error().message());
    return Outcome::kError;
  }
  auto loaded = otp::LoadState(options.state_dir, gate_user);
  if (!loaded) {
    log::Error("OTP state for " + gate_user + ": " + loaded.error().message());
    return Outcome::kError;
  }
  OtpState state = *loaded;
  const std::int64_t now = clock_();
  if (state.locked_until > now) {
    say("locked out");
    return Outcome::kLockedOut;
  }
  if (state.locked_until != 0) {
    state.locked_until = 0;
    state.failures = 0;
  }

  const std::int64_t now_step = now / kStepSeconds;
  std::int64_t accepted = -1;
  bool replayed = false;
  if (WellFormedCode(code)) {
    char expected[16];
    for (const authfile::Entry& entry : entries) {
      if (entry.kind != authfile::Kind::kTotp ||
          static_cast<std::size_t>(entry.totp.digits) != code.size()) {
        continue;
      }
      // Every step of the window is computed and compared in constant time,
      // so the time taken says nothing about which step (if any) matched.
      for (std::int64_t step = now_step - options.window; step <= now_step + options.window;
           ++step) {
        if (step < 0 || !Generate(entry, step, expected)) continue;
        const bool match = ConstantTimeEquals(std::string_view(expected, code.size()), code);
        Wipe(expected, sizeof(expected));
        if (!match) continue;
        if (step > state.last_step) {
          accepted = std::max(accepted, step);
        } else {
          replayed = true;
        }
      }
    }
  }

  Outcome outcome = Outcome::kFailure;
  if (accepted >= 0) {
    state.last_step = accepted;
    state.failures = 0;
    outcome = Outcome::kSuccess;
    say("accepted");
  } else {
    say(replayed ? "code already used" : "wrong code");
    if (++state.failures >= options.max_tries) {
      state.failures = 0;
      state.locked_until = now + options.lockout.count();
      say(replayed ? "code already used; locked out" : "wrong code; locked out");
    }
  }
  // Success is only real once recorded: otherwise the same code would work
  // again after a crash or a full disk.
  if (Status s = otp::SaveState(options.state_dir, gate_user, state); !s.ok()) {
    log::Error("cannot record OTP state for " + gate_user + ": " + s.message());
    return Outcome::kError;
  }
  return outcome;
}

Outcome LocalOtp::Authenticate(FactorContext& context) {
  const Options& options = context.options;
  const std::string& user = context.gate_user;
  auto file = LoadUserAuthfile(context, "local OTP", "OTP");
  if (!file) return Outcome::kError;
  const std::vector<authfile::Entry> mine =
      authfile::ForUser(file->entries, user, authfile::Kind::kTotp);
  if (mine.empty()) {
    log::Info("" + user + " has no local OTP enrolled in " + file->path);
    return Outcome::kNotEnrolled;
  }

  const Outcome lockout = CheckLockout(options, user);
  if (lockout != Outcome::kSuccess) {
    if (lockout == Outcome::kLockedOut) {
      log::Warning("" + user + " is locked out after too many wrong OTP codes");
      context.conversation.Error("Too many wrong codes; try again later.");
    }
    return lockout;
  }

  SecretString code = context.typed_otp;
  if (code.empty() && !context.conversation.PromptSecret(kPrompt, &code)) {
    log::Warning("no answer to the OTP prompt for " + user);
    return Outcome::kError;
  }
  std::string why;
  const Outcome outcome = Verify(options, user, mine, code.view(), &why);
  switch (outcome) {
    case Outcome::kSuccess:
      log::Info("local OTP accepted for " + user);
      break;
    case Outcome::kFailure:
      log::Warning("local OTP refused for " + user + ": " + why);
      context.conversation.Error(why.starts_with("code already used")
                                     ? "That code was already used; wait for the next one."
                                     : "Wrong code.");
      break;
    case Outcome::kLockedOut:
      log::Warning("" + user + " is locked out after too many wrong OTP codes");
      context.conversation.Error("Too many wrong codes; try again later.");
      break;
    default:
      break;
  }
  return outcome;
}

std::unique_ptr<Factor> MakeLocalOtp() {
  return std::make_unique<LocalOtp>([] { return static_cast<std::int64_t>(std::time(nullptr)); });
}

}  // namespace gate::pam
