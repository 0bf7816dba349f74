#include "gate/session_registry.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "gate/json.h"
#include "gate/log.h"
#include "gate/names.h"
#include "gate/secure_file.h"
#include "gate/unique_fd.h"
#include "gate/uuid.h"

namespace gate::recorder {
namespace {

constexpr std::size_t kMaxEntrySize = 64 * 1024;
// btime and the start tick are whole seconds apart from the file's clock.
constexpr std::int64_t kStartSlackSeconds = 2;

Status CheckRunDir(const std::string& dir, uid_t owner) {
  SafePathOptions options;
  options.subject = "run directory";
  return CheckSafeDir(dir, owner, options);
}

struct Entry {
  RegisteredSession session;
  std::int64_t mtime = 0;
};

Result<Entry> ReadEntry(const std::string& path, uid_t owner) {
  FilePolicy policy;
  policy.allowed_owners = {owner};
  policy.secret = false;
  policy.max_size = kMaxEntrySize;
  auto fd = OpenSecureFile(path, policy);
  if (!fd) return Err(fd.error());
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return Err(Unavailable("cannot stat " + path));
  std::string text(kMaxEntrySize + 1, '\0');
  std::size_t len = 0;
  while (len < text.size()) {
    const ssize_t n = ::read(fd->get(), text.data() + len, text.size() - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Err(Unavailable("cannot read " + path + ": " + std::strerror(errno)));
    if (n == 0) break;
    len += static_cast<std::size_t>(n);
  }
  if (len > kMaxEntrySize) return Err(InvalidArgument(path + " is too large"));
  text.resize(len);
  auto session = ParseRegistryEntry(text);
  if (!session) return Err(session.error().WithContext(path));
  return Entry{std::move(*session), static_cast<std::int64_t>(st.st_mtime)};
}

}  // namespace

Result<RegisteredSession> ParseRegistryEntry(std::string_view text) {
  auto v = json::Parse(text, kMaxEntrySize);
  if (!v) return Err(v.error());
  auto entry = LiveSessionFromJson(*v);
  if (!entry) return Err(entry.error());
  // What the authorizer relies on, beyond the format: a user name it can
  // show and look up, and a real pid to match.
  GATE_RETURN_IF_ERROR(ValidateUserName(entry->user).WithContext("user"));
  if (entry->recorder_pid <= 0) return Err(InvalidArgument("recorder_pid out of range"));
  RegisteredSession s;
  s.session_id = std::move(entry->session_id);
  s.user = std::move(entry->user);
  s.login = std::move(entry->login);
  s.recorder_pid = entry->recorder_pid;
  s.cert_serial = entry->cert_serial;
  return s;
}

bool EntryPredates(std::int64_t written_at, std::int64_t process_started_at) {
  return written_at < process_started_at - kStartSlackSeconds;
}

Result<std::vector<ListedSession>> ListRegisteredSessions(const std::string& run_dir, uid_t owner) {
  GATE_RETURN_IF_ERROR(CheckRunDir(run_dir, owner));
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(run_dir.c_str()), ::closedir);
  if (!dir) return Err(Unavailable("cannot list " + run_dir + ": " + std::strerror(errno)));
  std::vector<ListedSession> found;
  while (const dirent* d = ::readdir(dir.get())) {
    const std::string_view name(d->d_name);
    constexpr std::string_view kSuffix = ".json";
    if (name.size() <= kSuffix.size() || name.substr(name.size() - kSuffix.size()) != kSuffix ||
        !IsCanonicalUuid(name.substr(0, name.size() - kSuffix.size()))) {
      continue;
    }
    const std::string path = run_dir + "/" + std::string(name);
    auto entry = ReadEntry(path, owner);
    if (!entry) {
      // A session that just ended removes its file while we look.
      if (entry.error().code() != Code::kNotFound) {
        log::Warning("session registry: ignoring entry: " + entry.error().message());
      }
      continue;
    }
    if (entry->session.session_id + ".json" != name) {
      log::Warning("session registry: ignoring " + path + ": it names session " +
                   entry->session.session_id);
      continue;
    }
    found.push_back({std::move(entry->session), entry->mtime});
  }
  return found;
}

Result<RegisteredSession> FindRegisteredSession(const RegistryQuery& query) {
  auto listed = ListRegisteredSessions(query.run_dir, query.owner);
  if (!listed) return Err(listed.error());
  std::vector<RegisteredSession> found;
  for (ListedSession& entry : *listed) {
    if (entry.session.recorder_pid != query.recorder_pid) continue;
    if (EntryPredates(entry.written_at, query.not_before)) {
      log::Warning("join: ignoring the entry of session " + entry.session.session_id +
                   ": written before recorder pid " + std::to_string(query.recorder_pid) +
                   " started (a stale entry)");
      continue;
    }
    found.push_back(std::move(entry.session));
  }
  if (found.empty()) {
    return Err(
        NotFound("no live session names recorder pid " + std::to_string(query.recorder_pid)));
  }
  if (found.size() > 1) {
    return Err(FailedPrecondition(std::to_string(found.size()) +
                                  " live sessions name recorder pid " +
                                  std::to_string(query.recorder_pid)));
  }
  return std::move(found.front());
}

}  // namespace gate::recorder
