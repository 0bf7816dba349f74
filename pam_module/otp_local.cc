#include "pam_module/otp_local.h"

#include <fcntl.h>
#include <liboath/oath.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <mutex>

#include "gate/log.h"
#include "gate/names.h"
#include "gate/secret.h"
#include "gate/secure_file.h"
#include "gate/unique_fd.h"
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

// Holds an exclusive flock on <state_dir>/<user>.lock while alive.
class UserLock {
 public:
  static Result<UserLock> Acquire(const std::string& state_dir, const std::string& user) {
    GATE_RETURN_IF_ERROR(EnsurePrivateDir(state_dir, 0700));
    const std::string path = state_dir + "/" + user + ".lock";
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600));
    if (!fd.valid()) {
      return Err(Unavailable("cannot open " + path + ": " + std::strerror(errno)));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) {
      return Err(PermissionDenied(path + " is not a regular file owned by this process's user"));
    }
    while (::flock(fd.get(), LOCK_EX) != 0) {
      if (errno != EINTR) {
        return Err(Unavailable("cannot lock " + path + ": " + std::strerror(errno)));
      }
    }
    return UserLock(std::move(fd));
  }

 private:
  explicit UserLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // closing it releases the lock
};

std::string StatePath(const Options& options, const std::string& user) {
  return options.state_dir + "/" + user + ".state";
}

// Caller holds the user's lock. A missing file is a fresh state.
Result<OtpState> LoadState(const Options& options, const std::string& user) {
  FilePolicy policy;  // owned by us (root in production), 0600
  policy.secret = true;
  policy.max_size = 256;
  auto text = ReadSecureFile(StatePath(options, user), policy);
  if (!text) {
    if (text.error().code() == Code::kNotFound) return OtpState{};
    return Err(text.error());
  }
  auto state = ParseState(text->view());
  if (!state) return Err(state.error().WithContext(StatePath(options, user)));
  return state;
}

// The state is rewritten in place, one fixed-size record at offset 0, and
// made durable with one fdatasync: no new inode, rename and directory fsync
// per login (they tripled the check's cost). The record is far smaller than
// a disk sector, so a crash leaves the old record or the new one; anything
// else would not parse and fail closed. Success is returned only once the
// accepted step is on disk, so a crash cannot re-open a used code.
constexpr std::size_t kStateRecordSize = 64;

Status SaveState(const Options& options, const std::string& user, const OtpState& state) {
  const std::string path = StatePath(options, user);
  std::string record = FormatState(state);
  if (record.size() > kStateRecordSize) return Internal("OTP state record too long");
  record.insert(record.size() - 1, kStateRecordSize - record.size(), ' ');

  bool created = false;
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid() && errno == ENOENT) {
    fd.Reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                    0600));
    created = fd.valid();
  }
  if (!fd.valid()) return Unavailable("cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid() ||
      (st.st_mode & 077) != 0) {
    return PermissionDenied(path +
                            " is not a regular file owned by this process's user with mode 0600");
  }
  if (::pwrite(fd.get(), record.data(), record.size(), 0) != static_cast<ssize_t>(record.size()) ||
      (static_cast<std::size_t>(st.st_size) > record.size() &&
       ::ftruncate(fd.get(), static_cast<off_t>(record.size())) != 0) ||
      ::fdatasync(fd.get()) != 0) {
    return Unavailable("cannot write " + path + ": " + std::strerror(errno));
  }
  if (created) {
    // The new name must survive a crash too.
    UniqueFd dir(::open(options.state_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid() || ::fsync(dir.get()) != 0) {
      return Unavailable("cannot sync " + options.state_dir + ": " + std::strerror(errno));
    }
  }
  return Status::Ok();
}

bool ParseI64(std::string_view s, std::int64_t* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
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

std::string FormatState(const OtpState& state) {
  return "v1 " + std::to_string(state.last_step) + " " + std::to_string(state.failures) + " " +
         std::to_string(state.locked_until) + "\n";
}

Result<OtpState> ParseState(std::string_view text) {
  auto corrupt = [] {
    return Err(DataLoss("OTP state is corrupt (expected \"v1 STEP FAILURES UNTIL\")"));
  };
  if (text.size() < 4 || text.substr(0, 3) != "v1 " || text.back() != '\n') return corrupt();
  text = text.substr(3, text.size() - 4);
  // SaveState pads the record to a fixed size with spaces before the '\n'.
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  std::int64_t fields[3];
  for (int i = 0; i < 3; ++i) {
    const std::size_t sp = text.find(' ');
    if ((i < 2) != (sp != std::string_view::npos)) return corrupt();
    if (!ParseI64(text.substr(0, sp), &fields[i])) return corrupt();
    text.remove_prefix(sp == std::string_view::npos ? text.size() : sp + 1);
  }
  if (fields[0] < -1 || fields[1] < 0 || fields[1] > 1000 || fields[2] < 0) return corrupt();
  OtpState state;
  state.last_step = fields[0];
  state.failures = static_cast<int>(fields[1]);
  state.locked_until = fields[2];
  return state;
}

LocalOtp::LocalOtp(Clock clock) : clock_(std::move(clock)) {}

Outcome LocalOtp::CheckLockout(const Options& options, const std::string& gate_user) {
  auto lock = UserLock::Acquire(options.state_dir, gate_user);
  if (!lock) {
    log::Error("pam_gate: OTP state for " + gate_user + ": " + lock.error().message());
    return Outcome::kError;
  }
  auto state = LoadState(options, gate_user);
  if (!state) {
    log::Error("pam_gate: OTP state for " + gate_user + ": " + state.error().message());
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
  auto lock = UserLock::Acquire(options.state_dir, gate_user);
  if (!lock) {
    log::Error("pam_gate: OTP state for " + gate_user + ": " + lock.error().message());
    return Outcome::kError;
  }
  auto loaded = LoadState(options, gate_user);
  if (!loaded) {
    log::Error("pam_gate: OTP state for " + gate_user + ": " + loaded.error().message());
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
  if (Status s = SaveState(options, gate_user, state); !s.ok()) {
    log::Error("pam_gate: cannot record OTP state for " + gate_user + ": " + s.message());
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
    log::Info("pam_gate: " + user + " has no local OTP enrolled in " + file->path);
    return Outcome::kNotEnrolled;
  }

  const Outcome lockout = CheckLockout(options, user);
  if (lockout != Outcome::kSuccess) {
    if (lockout == Outcome::kLockedOut) {
      log::Warning("pam_gate: " + user + " is locked out after too many wrong OTP codes");
      context.conversation.Error("Too many wrong codes; try again later.");
    }
    return lockout;
  }

  std::string code(context.typed_otp.view());
  if (code.empty() && !context.conversation.PromptSecret(kPrompt, &code)) {
    log::Warning("pam_gate: no answer to the OTP prompt for " + user);
    return Outcome::kError;
  }
  std::string why;
  const Outcome outcome = Verify(options, user, mine, code, &why);
  Wipe(code.data(), code.size());
  switch (outcome) {
    case Outcome::kSuccess:
      log::Info("pam_gate: local OTP accepted for " + user);
      break;
    case Outcome::kFailure:
      log::Warning("pam_gate: local OTP refused for " + user + ": " + why);
      context.conversation.Error(why.starts_with("code already used")
                                     ? "That code was already used; wait for the next one."
                                     : "Wrong code.");
      break;
    case Outcome::kLockedOut:
      log::Warning("pam_gate: " + user + " is locked out after too many wrong OTP codes");
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
