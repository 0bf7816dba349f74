#include "gate/otp_state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "gate/secure_file.h"

namespace gate::otp {
namespace {

std::string StatePath(const std::string& state_dir, const std::string& user) {
  return state_dir + "/" + user + ".state";
}

bool ParseI64(std::string_view s, std::int64_t* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// The state is rewritten in place, one fixed-size record at offset 0, and
// made durable with one fdatasync: no new inode, rename and directory fsync
// per login (they tripled the check's cost). The record is far smaller than
// a disk sector, so a crash leaves the old record or the new one; anything
// else would not parse and fail closed.
constexpr std::size_t kStateRecordSize = 64;

}  // namespace

std::string FormatState(const State& state) {
  return "v1 " + std::to_string(state.last_step) + " " + std::to_string(state.failures) + " " +
         std::to_string(state.locked_until) + "\n";
}

Result<State> ParseState(std::string_view text) {
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
  State state;
  state.last_step = fields[0];
  state.failures = static_cast<int>(fields[1]);
  state.locked_until = fields[2];
  return state;
}

Result<StateLock> StateLock::Acquire(const std::string& state_dir, const std::string& user) {
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
  return StateLock(std::move(fd));
}

Result<State> LoadState(const std::string& state_dir, const std::string& user) {
  FilePolicy policy;  // owned by us (root in production), 0600
  policy.secret = true;
  policy.max_size = 256;
  auto text = ReadSecureFile(StatePath(state_dir, user), policy);
  if (!text) {
    if (text.error().code() == Code::kNotFound) return State{};
    return Err(text.error());
  }
  auto state = ParseState(text->view());
  if (!state) return Err(state.error().WithContext(StatePath(state_dir, user)));
  return state;
}

Status SaveState(const std::string& state_dir, const std::string& user, const State& state) {
  const std::string path = StatePath(state_dir, user);
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
    UniqueFd dir(::open(state_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid() || ::fsync(dir.get()) != 0) {
      return Unavailable("cannot sync " + state_dir + ": " + std::strerror(errno));
    }
  }
  return Status::Ok();
}

Status ConsumeStep(const std::string& state_dir, const std::string& user, std::int64_t step) {
  auto lock = StateLock::Acquire(state_dir, user);
  if (!lock) return lock.error();
  auto state = LoadState(state_dir, user);
  if (!state) return state.error();
  if (state->last_step >= step) return Status::Ok();
  state->last_step = step;
  return SaveState(state_dir, user, *state);
}

}  // namespace gate::otp
