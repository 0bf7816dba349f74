#include "recorder/join/authorize.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "gate/log.h"
#include "gate/policy.h"
#include "recorder/join/process_info.h"
#include "recorder/join/session_registry.h"

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

// The nearest ancestor of peer (not peer itself: the joining program is
// never the recorder) that is a recorder process; nullopt if none is
// within config.max_depth.
Result<std::optional<ProcessInfo>> FindRecorder(const AuthorizerConfig& config,
                                                const FileIdentity& recorder_exe,
                                                uid_t recorder_uid, const ProcessInfo& peer) {
  pid_t pid = peer.ppid;
  for (int depth = 0; depth < config.max_depth && pid > 1; ++depth) {
    auto info = ReadProcessInfo(pid);
    // A parent that exited meanwhile: its children now belong to init or a
    // subreaper, and the chain is broken.
    if (!info) return std::optional<ProcessInfo>();
    if (info->ruid == recorder_uid && info->euid == recorder_uid && info->suid == recorder_uid) {
      auto exe = ExeIdentity(pid);
      if (!exe) {
        if (exe.error().code() == Code::kNotFound) return std::optional<ProcessInfo>();
        // Processes of the recorders' uid are ours to inspect unless not
        // dumpable; failing here is a setup error, and fails closed.
        return Err(Unavailable(
            "cannot tell whether pid " + std::to_string(pid) + " (uid " +
            std::to_string(recorder_uid) + ") is a recorder: " + exe.error().message() +
            " (gate-record must make itself dumpable once it runs as " + "its own uid alone)"));
      }
      if (*exe == recorder_exe) return std::optional<ProcessInfo>(*info);
    }
    pid = info->ppid;
  }
  return std::optional<ProcessInfo>();
}

Result<std::string> Decide(const AuthorizerConfig& config, const FileIdentity& recorder_exe,
                           const Peer& peer) {
  const uid_t recorder_uid = config.recorder_uid.value_or(::geteuid());
  auto self = ReadProcessInfo(peer.pid);
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
  auto recorder = FindRecorder(config, recorder_exe, recorder_uid, *self);
  if (!recorder) return Err(recorder.error());
  if (!recorder->has_value()) {
    log::Warning("join: " + Who(peer) + " has no recorder among its parents");
    return Err(NotInSession());
  }
  const ProcessInfo& rec = **recorder;
  if (rec.pid == ::getpid()) {
    return Err(PermissionDenied("you cannot join the session you are in"));
  }
  RegistryQuery query;
  query.run_dir = config.run_dir;
  query.owner = recorder_uid;
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
  const std::string& user = session->user;

  Status dir = node::CheckCacheDir(config.cache);
  if (!dir.ok()) return Err(Unavailable("policy cache: " + dir.message()));
  auto snapshot = node::ReadSnapshot(config.cache);
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
  log::Info("join: " + Who(peer) + " is " + user + " (session " + session->session_id +
            ", recorder pid " + std::to_string(rec.pid) + ")");
  return user;
}

}  // namespace

Result<std::string> AuthorizeJoin(const AuthorizerConfig& config, const Peer& peer) {
  auto exe = IdentityOf(config.recorder_exe);
  if (!exe) return Err(Unavailable("recorder binary: " + exe.error().message()));
  return Decide(config, *exe, peer);
}

Result<JoinAuthorizer> MakeDefaultAuthorizer(AuthorizerConfig config) {
  auto exe = IdentityOf(config.recorder_exe);
  if (!exe) return Err(exe.error());
  return JoinAuthorizer([config = std::move(config), exe = *exe](const Peer& peer) {
    return Decide(config, exe, peer);
  });
}

Status MakeIdentifiableToOtherRecorders() {
  uid_t ruid, euid, suid;
  gid_t rgid, egid, sgid;
  if (::getresuid(&ruid, &euid, &suid) != 0 || ::getresgid(&rgid, &egid, &sgid) != 0) {
    return Internal(std::string("getresuid: ") + std::strerror(errno));
  }
  if (ruid != euid || euid != suid || rgid != egid || egid != sgid) {
    return FailedPrecondition("the recorder still holds two identities; it stays non-dumpable");
  }
  const rlimit no_core{0, 0};
  if (::setrlimit(RLIMIT_CORE, &no_core) != 0) {
    return Internal(std::string("setrlimit(RLIMIT_CORE): ") + std::strerror(errno));
  }
  if (::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) {
    return Internal(std::string("prctl(PR_SET_DUMPABLE): ") + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace gate::recorder
