#include "recorder/join/authorize.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "gate/log.h"
#include "gate/policy.h"
#include "gate/process_info.h"
#include "gate/session_registry.h"

namespace gate::recorder {
namespace {

std::string Who(const Peer& peer) {
  return "pid " + std::to_string(peer.pid) + " uid " + std::to_string(peer.uid);
}

Status NotInSession() {
  return PermissionDenied(
      "you are not inside a recorded session on this node; run gate join in an SSH session "
      "that gate-record records");
}

bool IsRecorder(const proc::ProcessInfo& info, uid_t recorder_uid) {
  return proc::RunsOnlyAs(info, recorder_uid);
}

// The nearest ancestor of peer that runs as the recorders' uid alone;
// nullopt if none is within config.max_depth.
std::optional<proc::ProcessInfo> FindRecorder(const AuthorizerConfig& config, uid_t recorder_uid,
                                              const proc::ProcessInfo& peer) {
  pid_t pid = peer.ppid;
  for (int depth = 0; depth < config.max_depth && pid > 1; ++depth) {
    auto info = proc::ReadProcessInfo(pid);
    // A parent that exited meanwhile: its children now belong to init or a
    // subreaper, and the chain is broken.
    if (!info) return std::nullopt;
    if (IsRecorder(*info, recorder_uid)) return *info;
    pid = info->ppid;
  }
  return std::nullopt;
}

// The policy's decision for the user a registry entry names.
Result<std::string> Allow(const AuthorizerConfig& config, const Peer& peer,
                          const RegisteredSession& session, pid_t recorder_pid);

Result<std::string> Decide(const AuthorizerConfig& config, const Peer& peer) {
  const uid_t recorder_uid = config.recorder_uid.value_or(::geteuid());
  auto self = proc::ReadProcessInfo(peer.pid);
  if (!self) {
    log::Warning("join: cannot read the process of " + Who(peer) + ": " + self.error().message());
    return Err(PermissionDenied("the recorder cannot identify your process"));
  }
  // SO_PEERCRED reported the euid at connect(2); another uid now means the
  // pid names some other process.
  if (self->euid != peer.uid) {
    log::Warning("join: " + Who(peer) + " now runs as uid " + std::to_string(self->euid));
    return Err(PermissionDenied("the recorder cannot identify your process"));
  }
  RegistryQuery query;
  query.run_dir = config.run_dir;
  query.owner = recorder_uid;
  // A recorder serving a join request sshd passed it connects itself: its
  // own entry names the user.
  if (IsRecorder(*self, recorder_uid)) {
    query.recorder_pid = self->pid;
    query.not_before = self->started_at;
    auto own = FindRegisteredSession(query);
    if (own) return Allow(config, peer, *own, self->pid);
    if (own.error().code() != Code::kNotFound) {
      return Err(Unavailable("session registry: " + own.error().message()));
    }
  }
  const std::optional<proc::ProcessInfo> recorder = FindRecorder(config, recorder_uid, *self);
  if (!recorder) {
    log::Warning("join: " + Who(peer) + " has no recorder among its parents");
    return Err(NotInSession());
  }
  const proc::ProcessInfo& rec = *recorder;
  if (rec.pid == ::getpid()) {
    return Err(PermissionDenied("you cannot join the session you are in"));
  }
  query.recorder_pid = rec.pid;
  query.not_before = rec.started_at;
  auto session = FindRegisteredSession(query);
  if (!session) {
    if (session.error().code() == Code::kNotFound) {
      log::Warning("join: " + Who(peer) + ": " + session.error().message());
      return Err(NotInSession());
    }
    return Err(Unavailable("session registry: " + session.error().message()));
  }
  return Allow(config, peer, *session, rec.pid);
}

Result<std::string> Allow(const AuthorizerConfig& config, const Peer& peer,
                          const RegisteredSession& session, pid_t recorder_pid) {
  const std::string& user = session.user;

  Status dir = node::CheckCacheDir(config.cache);
  if (!dir.ok()) return Err(Unavailable("policy cache: " + dir.message()));
  // The serial is not the joiner's concern here (no certificate is
  // decided), so 0: only the user's rows are read.
  auto snapshot = node::ReadLoginSnapshot(config.cache, user, 0);
  if (!snapshot) return Err(Unavailable("policy cache: " + snapshot.error().message()));
  const std::int64_t now = config.now ? config.now() : static_cast<std::int64_t>(::time(nullptr));
  const bool known = std::any_of(snapshot->users.begin(), snapshot->users.end(),
                                 [&](const policy::User& u) { return u.name == user; });
  if (!known) return Err(PermissionDenied(user + " is not a user of this cluster"));
  if (const policy::Lock* lock = policy::ActiveLock(snapshot->locks, user, now)) {
    return Err(PermissionDenied(user + " is locked and may not join sessions" +
                                (lock->message.empty() ? "" : ": " + lock->message)));
  }
  if (!policy::MayJoinSessions(*snapshot, user, now)) {
    return Err(PermissionDenied(user + " may not join sessions on this node (no role with "
                                       "join_sessions)"));
  }
  log::Info("join: " + Who(peer) + " is " + user + " (session " + session.session_id +
            ", recorder pid " + std::to_string(recorder_pid) + ")");
  return user;
}

}  // namespace

Result<std::string> AuthorizeJoin(const AuthorizerConfig& config, const Peer& peer) {
  return Decide(config, peer);
}

JoinAuthorizer MakeDefaultAuthorizer(AuthorizerConfig config) {
  return JoinAuthorizer(
      [config = std::move(config)](const Peer& peer) { return Decide(config, peer); });
}

}  // namespace gate::recorder
