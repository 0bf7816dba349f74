#include "sshd-hooks/node/record_setup.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "gate/cptr.h"
#include "gate/names.h"
#include "gate/node_cache.h"
#include "gate/recorder_settings.h"
#include "gate/secure_file.h"
#include "gate/unique_fd.h"
#include "sshd-hooks/node/host_principals.h"
#include "sshd-hooks/node/join_files.h"
#include "sshd-hooks/node/recorder_files.h"
#include "sshd-hooks/node/system_user.h"
#include "sshd-hooks/principals/principals.h"

namespace gate::node {
namespace {

void AppendUnique(std::vector<std::string>* out, const std::vector<std::string>& items) {
  for (const std::string& item : items) {
    if (std::find(out->begin(), out->end(), item) == out->end()) out->push_back(item);
  }
}

// A root directory for root's files (recorder.json, recorder.pub): created
// 0755 with missing parents, or an existing one that is root's and not
// writable by group or others (gate-record refuses settings in anything
// else).
Status EnsureRootDir(const std::string& dir, std::vector<std::string>* created) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return Unavailable("cannot stat " + dir + ": " + std::strerror(errno));
    return hooks::EnsureOwnedDir(dir, 0, 0, 0755, created);
  }
  SafePathOptions options;
  options.consequence = "the setuid recorder refuses settings anyone else could change";
  return CheckSafeDir(dir, 0, options);
}

constexpr std::string_view kDefaultRecorderConfig = "/etc/gate/recorder.json";

std::string RecordCommandFlag(const std::string& command) {
  return command == hooks::kDefaultRecordCommand ? std::string() : command;
}

Status RemoveFile(const std::string& path, std::vector<std::string>* notes) {
  if (::unlink(path.c_str()) == 0) {
    notes->push_back("removed " + path);
    return Status::Ok();
  }
  if (errno == ENOENT) return Status::Ok();
  return Unavailable("cannot remove " + path + ": " + std::strerror(errno));
}

// rmdir, tolerating a directory that is gone or still holds something.
Status RemoveDirIfEmpty(const std::string& dir, std::vector<std::string>* notes) {
  if (::rmdir(dir.c_str()) == 0) {
    notes->push_back("removed " + dir + "/");
    return Status::Ok();
  }
  if (errno == ENOENT || errno == ENOTEMPTY || errno == EEXIST || errno == EBUSY) {
    return Status::Ok();
  }
  return Unavailable("cannot remove " + dir + ": " + std::strerror(errno));
}

// Writes a root 0644 file unless it already is exactly that, with this
// content (WriteIfChanged compares content only). Returns whether it wrote.
Result<bool> WriteRootFile(const std::string& path, const std::string& content) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == 0 &&
      (st.st_mode & 07777) == 0644) {
    auto current = ReadFile(path, 1 << 20);
    if (current && *current == content) return false;
  }
  GATE_RETURN_IF_ERROR(WriteFileAtomic(path, content, 0644));
  return true;
}

// True if dir holds anything at all.
// True if dir holds anything but the recorder's own log (which leave
// reports and removes: it is not a recording).
bool HasEntries(const std::string& dir) {
  CPtr<DIR, ::closedir> d(::opendir(dir.c_str()));
  if (!d) return false;
  while (const dirent* e = ::readdir(d.get())) {
    const std::string_view name = e->d_name;
    if (name != "." && name != ".." && name != recorder::kRecorderLogFile) return true;
  }
  return false;
}

// Gives the recorder binary back to root (0755) if record on made it setuid
// to uid: once that user is gone, whoever next gets its uid would own it.
Status UnsetuidRecorder(const std::string& path, uid_t uid, std::vector<std::string>* notes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return Status::Ok();  // gone or a symlink: nothing of ours to undo
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != uid) {
    return Status::Ok();
  }
  if (::fchown(fd.get(), 0, 0) != 0 || ::fchmod(fd.get(), 0755) != 0) {
    return Unavailable("cannot give " + path + " back to root: " + std::strerror(errno));
  }
  notes->push_back("reset     " + path + "  (root:root 0755, no longer setuid or setgid)");
  return Status::Ok();
}

}  // namespace

Status CheckRecordFlags(const NodePaths& paths, const RecordOptions& options) {
  GATE_RETURN_IF_ERROR(hooks::ValidateConfigPath("--recorder-command", paths.recorder_command));
  // Both go into sshd_config (ForceCommand) and command="..." unquoted.
  GATE_RETURN_IF_ERROR(hooks::ValidateConfigPath("--recorder-config", paths.recorder_config));
  for (const auto& [flag, path] :
       {std::pair{"--recorder-config", &paths.recorder_config},
        std::pair{"--recorder-key-dir", &paths.recorder_key_dir},
        std::pair{"--spool-dir", &paths.spool_dir}, std::pair{"--run-dir", &paths.run_dir}}) {
    if (path->empty() || path->front() != '/' || *path == "/") {
      return InvalidArgument(std::string(flag) + " must be an absolute path below /, not '" +
                             *path + "'");
    }
  }
  if (options.flush_interval_ms < recorder::kMinFlushIntervalMs ||
      options.flush_interval_ms > recorder::kMaxFlushIntervalMs) {
    return InvalidArgument("--flush-interval must be between " +
                           std::to_string(recorder::kMinFlushIntervalMs) + " and " +
                           std::to_string(recorder::kMaxFlushIntervalMs) + " ms");
  }
  if (options.join_history_bytes != 0 &&
      (options.join_history_bytes < recorder::kMinJoinHistoryBytes ||
       options.join_history_bytes > recorder::kMaxJoinHistoryBytes)) {
    return InvalidArgument("--join-history-bytes must be 0 (none kept on disk) or between " +
                           std::to_string(recorder::kMinJoinHistoryBytes) + " (1 MiB) and " +
                           std::to_string(recorder::kMaxJoinHistoryBytes) + " (1 TiB)");
  }
  GATE_RETURN_IF_ERROR(ValidateLogin(paths.recorder_user).WithContext("--recorder-user"));
  const passwd* pw = ::getpwnam(paths.recorder_user.c_str());
  if (pw != nullptr && pw->pw_uid == 0) {
    return InvalidArgument(
        "--recorder-user must not be root: the recorder's own user is what "
        "keeps recordings out of the recorded user's (and root's) reach");
  }
  // A user that does not exist yet owns nothing: only root may own the file.
  const uid_t uid = pw != nullptr ? pw->pw_uid : 0;
  return hooks::CheckRecorderExecutable(paths.recorder_command, uid);
}

Result<std::optional<hooks::RecordState>> LoadRecordState(const NodePaths& paths) {
  auto state = hooks::ReadRecordState(paths.RecordStatePath());
  if (state) return std::optional<hooks::RecordState>(std::move(*state));
  if (state.error().code() == Code::kNotFound) return std::optional<hooks::RecordState>();
  return Err(state.error());
}

hooks::DropInSettings NodeDropIn(const NodePaths& paths, const NodeState& node,
                                 const hooks::RecordState* record) {
  hooks::DropInSettings s;
  s.staleness = NodeStaleness(node);
  s.cache_dir = paths.CacheDir();
  s.host_certificate = paths.HostCertPath();
  s.principals_command = paths.principals_command;
  s.principals_user = paths.principals_user;
  if (record != nullptr) {
    s.record_command = RecordCommandFlag(record->recorder_command);
    s.record_config = record->config_file == kDefaultRecorderConfig ? "" : record->config_file;
    s.record_all_sessions = record->all_sessions;
  }
  return s;
}

Result<hooks::EffectiveConfig> CheckNodeSshd(const NodePaths& paths, const NodeState& node,
                                             hooks::DropInSettings* drop_in) {
  auto record = LoadRecordState(paths);
  if (!record) return Err(record.error());
  const hooks::DropInSettings wanted = NodeDropIn(paths, node, *record ? &**record : nullptr);
  if (drop_in != nullptr) *drop_in = wanted;
  auto effective = hooks::CheckEffectiveConfig(paths.sshd_binary, paths.sshd_config, paths.ssh_dir,
                                               paths.DropInPath(), wanted);
  if (!effective) return Err(effective.error().WithContext("sshd -T"));
  return effective;
}

Status CheckDropInUnchanged(const NodePaths& paths, const NodeState& node,
                            const hooks::RecordState* previous) {
  auto current = ReadIfExists(paths.DropInPath());
  if (!current) return current.error();
  if (!*current) {
    return NotFound(paths.DropInPath() +
                    " does not exist; run gate-node join (with the path "
                    "flags this node was joined with) first");
  }
  if (**current != hooks::RenderDropIn(NodeDropIn(paths, node, previous))) {
    return FailedPrecondition(
        paths.DropInPath() +
        " is not what gate-node would write with these flags: pass the same path flags "
        "(--principals-command, --data-dir, --ssh-dir, --recorder-command, ...) that the node "
        "was joined with, or run gate-node join again with them first");
  }
  return Status::Ok();
}

Result<hooks::RecordState> SetUpRecorder(const NodePaths& paths, const NodeState& node,
                                         const RecordOptions& options,
                                         const std::optional<hooks::RecordState>& previous,
                                         const HttpClient& client,
                                         std::vector<std::string>* notes) {
  GATE_RETURN_IF_ERROR(CheckRecordFlags(paths, options));
  hooks::RecordState state;
  state.all_sessions = previous ? previous->all_sessions : false;
  state.recorder_command = paths.recorder_command;
  state.recorder_user = paths.recorder_user;
  state.config_file = paths.recorder_config;
  state.public_key_file = paths.RecorderPubPath();
  state.key_dir = paths.recorder_key_dir;
  state.spool_dir = paths.spool_dir;
  state.run_dir = paths.run_dir;
  if (previous) {
    state.created_user = previous->created_user && previous->recorder_user == paths.recorder_user;
    state.created_dirs = previous->created_dirs;
  }

  auto hostname = hooks::LocalHostname();
  if (!hostname) return Err(hostname.error());
  recorder::Settings config;
  config.cluster_name = node.cluster_name;
  config.host_uuid = node.host_uuid;
  config.node_name = *hostname;
  config.proxy = node.proxy;
  config.cache_dir = paths.CacheDir();
  config.spool_dir = paths.spool_dir;
  config.run_dir = paths.run_dir;
  config.key_file = state.KeyFile();
  config.flush_interval_ms = options.flush_interval_ms;
  config.record_input = options.record_input;
  config.record_exec_output = options.record_exec_output;
  config.join_history_bytes = options.join_history_bytes;
  if (config.cluster_name.empty()) {
    return Err(
        FailedPrecondition("node.json has no cluster name (joined by an older gate-ca?); "
                           "leave and join again"));
  }
  GATE_RETURN_IF_ERROR(recorder::ValidateSettings(config));

  auto created = EnsureSystemUser(paths.recorder_user);
  if (!created) return Err(created.error());
  if (*created) {
    state.created_user = true;
    notes->push_back("created   " + paths.recorder_user +
                     "  (system user the recorder is "
                     "setuid to)");
  }
  const passwd* pw = ::getpwnam(paths.recorder_user.c_str());
  if (pw == nullptr) return Err(NotFound("user " + paths.recorder_user + " does not exist"));
  const uid_t uid = pw->pw_uid;
  const gid_t gid = pw->pw_gid;
  if (uid == 0) return Err(InvalidArgument("--recorder-user must not be root"));

  // The recorder reads the policy cache, which only root and this group
  // may read; setgid gives it the group whatever the session user's are.
  auto cache_group = EnsureSystemGroup(std::string(kCacheGroup));
  if (!cache_group) return Err(cache_group.error());
  auto cache_gid = CacheGroupId(CacheLocation{});
  if (!cache_gid) return Err(cache_gid.error());
  auto setuid = hooks::EnsureRecorderExecutable(paths.recorder_command, uid, *cache_gid);
  if (!setuid) return Err(setuid.error());
  notes->push_back(std::string(*setuid ? "set       " : "unchanged ") + paths.recorder_command +
                   "  (owner " + paths.recorder_user + ":" + std::string(kCacheGroup) +
                   ", mode 6755)");

  // Every created directory is remembered before the next step can fail.
  std::vector<std::string> dirs;
  Status s = hooks::EnsureOwnedDir(paths.recorder_key_dir, uid, gid, 0700, &dirs);
  if (s.ok()) s = EnsureRootDir(DirName(paths.recorder_config), &dirs);
  if (s.ok()) s = EnsureRootDir(DirName(state.public_key_file), &dirs);
  if (s.ok()) s = hooks::EnsureOwnedDir(paths.spool_dir, uid, gid, 0700, &dirs);
  if (s.ok()) s = hooks::EnsureOwnedDir(paths.run_dir, uid, gid, 0755, &dirs);
  AppendUnique(&state.created_dirs, dirs);
  if (!dirs.empty() || state.created_user) {
    GATE_RETURN_IF_ERROR(hooks::WriteRecordState(paths.RecordStatePath(), state));
  }
  GATE_RETURN_IF_ERROR(s);

  auto key = hooks::EnsureRecorderKey(state.KeyFile(), uid, gid,
                                      paths.recorder_user + "@" + config.node_name);
  if (!key) return Err(key.error());
  state.key_fingerprint = key->public_key.Fingerprint();
  notes->push_back(std::string(key->created ? "generated " : "unchanged ") + state.KeyFile() +
                   "  (" + paths.recorder_user + " 0600: " + state.key_fingerprint + ")");

  const std::string pub =
      key->public_key.AuthorizedKey(paths.recorder_user + "@" + config.node_name) + "\n";
  auto pub_written = WriteRootFile(state.public_key_file, pub);
  if (!pub_written) return Err(pub_written.error());
  notes->push_back(std::string(*pub_written ? "wrote     " : "unchanged ") + state.public_key_file +
                   "  (root 0644)");
  auto config_written = WriteRootFile(paths.recorder_config, recorder::RenderSettings(config));
  if (!config_written) return Err(config_written.error());
  notes->push_back(std::string(*config_written ? "wrote     " : "unchanged ") +
                   paths.recorder_config + "  (root 0644)");
  notes->push_back("ready     " + paths.spool_dir + "  (" + paths.recorder_user + " 0700), " +
                   paths.run_dir + "  (" + paths.recorder_user + " 0755)");
  GATE_RETURN_IF_ERROR(hooks::WriteRecordState(paths.RecordStatePath(), state));

  Json::Value body(Json::objectValue);
  body["public_key"] = key->public_key.AuthorizedKey();
  auto reply = client.Call("PUT", "/v1/nodes/recorder-key", &body);
  if (!reply) {
    return Err(reply.error().WithContext(
        "the recorder key was not registered with gate-ca (PUT /v1/nodes/recorder-key), so it "
        "could not verify this node's recordings; nothing else changed in sshd; run this again"));
  }
  notes->push_back("registered recorder key " + state.key_fingerprint + " with gate-ca");
  state.all_sessions = options.all_sessions;
  return state;
}

Result<std::size_t> CountFiles(const std::string& dir, std::string_view suffix) {
  CPtr<DIR, ::closedir> d(::opendir(dir.c_str()));
  if (!d) {
    if (errno == ENOENT) return Err(NotFound(dir + " does not exist"));
    return Err(Unavailable("cannot list " + dir + ": " + std::strerror(errno)));
  }
  std::size_t n = 0;
  while (const dirent* e = ::readdir(d.get())) {
    const std::string_view name = e->d_name;
    if (name.size() > suffix.size() && name.ends_with(suffix) && name.front() != '.') ++n;
  }
  return n;
}

Status TearDownRecorder(const NodePaths& paths, const hooks::RecordState& state,
                        std::vector<std::string>* notes) {
  auto cast = CountFiles(state.spool_dir, ".cast");
  if (!cast && cast.error().code() != Code::kNotFound) return cast.error();
  const std::size_t pending = cast ? *cast : 0;
  // Anything at all in the spool (an upload's bookkeeping, a file being
  // written) keeps it: only an empty spool is removed.
  const bool spool_has_files = HasEntries(state.spool_dir);
  // Signing more recordings is over; the key must not outlive the node.
  GATE_RETURN_IF_ERROR(RemoveFile(state.KeyFile(), notes));
  GATE_RETURN_IF_ERROR(RemoveFile(state.config_file, notes));
  GATE_RETURN_IF_ERROR(RemoveDirIfEmpty(state.run_dir, notes));
  GATE_RETURN_IF_ERROR(RemoveDirIfEmpty(state.key_dir, notes));
  if (spool_has_files) {
    notes->push_back("KEPT      " + state.spool_dir + "  (" + std::to_string(pending) +
                     " recording(s) not uploaded to gate-ca; owned by " + state.recorder_user +
                     "; verify them with " + state.public_key_file + ")");
    notes->push_back("KEPT      " + state.public_key_file + " and user " + state.recorder_user);
  } else {
    const std::string log = state.spool_dir + "/" + recorder::kRecorderLogFile;
    if (auto text = ReadFile(log, 16 << 20); text && !text->empty()) {
      notes->push_back("the recorder logged " +
                       std::to_string(std::count(text->begin(), text->end(), '\n')) +
                       " line(s) to " + log + " (no syslog or journal here); its last: " +
                       text->substr(text->rfind('\n', text->size() - 2) + 1));
    }
    GATE_RETURN_IF_ERROR(RemoveFile(log, notes));
    GATE_RETURN_IF_ERROR(RemoveDirIfEmpty(state.spool_dir, notes));
    GATE_RETURN_IF_ERROR(RemoveFile(state.public_key_file, notes));
  }
  for (auto it = state.created_dirs.rbegin(); it != state.created_dirs.rend(); ++it) {
    GATE_RETURN_IF_ERROR(RemoveDirIfEmpty(*it, notes));
  }
  if (state.created_user && !spool_has_files) {
    if (const passwd* pw = ::getpwnam(state.recorder_user.c_str()); pw != nullptr) {
      GATE_RETURN_IF_ERROR(UnsetuidRecorder(state.recorder_command, pw->pw_uid, notes));
    }
    GATE_RETURN_IF_ERROR(RemoveSystemUser(state.recorder_user));
    notes->push_back("removed user " + state.recorder_user);
  }
  return RemoveFile(paths.RecordStatePath(), notes);
}

}  // namespace gate::node
