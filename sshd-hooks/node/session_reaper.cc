#include "sshd-hooks/node/session_reaper.h"

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <initializer_list>
#include <map>
#include <memory>
#include <utility>

#include "gate/auth_info.h"
#include "gate/certificate.h"
#include "gate/process_info.h"
#include "gate/secure_file.h"
#include "gate/session_registry.h"
#include "gate/unique_fd.h"

namespace gate::node {
namespace {

// sshd writes a few lines; anything larger is not sshd's.
constexpr std::size_t kMaxAuthInfo = 64 * 1024;
constexpr std::size_t kMaxEnviron = 1 << 20;

struct Process {
  proc::ProcessInfo info;
  std::string argv0;
};

// glibc 2.36's <sys/pidfd.h> lacks extern "C"; the system calls themselves
// are what we need.
int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
int PidfdSendSignal(int fd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0));
}

// Every process now, by pid. Processes that exit while we look are skipped.
std::map<pid_t, Process> ProcessTable() {
  std::map<pid_t, Process> table;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir("/proc"), ::closedir);
  if (!dir) return table;
  while (const dirent* d = ::readdir(dir.get())) {
    pid_t pid = 0;
    const std::string_view name(d->d_name);
    const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (ec != std::errc() || end != name.data() + name.size() || pid <= 0) continue;
    auto info = proc::ReadProcessInfo(pid);
    if (!info) continue;
    auto argv0 = proc::ReadCommandName(pid);
    if (!argv0) continue;
    table[pid] = {*info, std::move(*argv0)};
  }
  return table;
}

const Process* Find(const std::map<pid_t, Process>& table, pid_t pid) {
  const auto it = table.find(pid);
  return it == table.end() ? nullptr : &it->second;
}

// The connection's sshd process (running as the user, named sshd, child of
// a root sshd process) that `pid` is a child of, or nullptr.
const Process* SshdParent(const std::map<pid_t, Process>& table, pid_t pid) {
  const Process* p = Find(table, pid);
  if (p == nullptr) return nullptr;
  const Process* sshd = Find(table, p->info.ppid);
  if (sshd == nullptr || !proc::NamedSshd(sshd->argv0)) return nullptr;
  const Process* monitor = Find(table, sshd->info.ppid);
  if (monitor == nullptr || !proc::RunsOnlyAs(monitor->info, 0) ||
      !proc::NamedSshd(monitor->argv0)) {
    return nullptr;
  }
  return sshd;
}

// A pidfd for pid, taken only if the process behind it is still the one we
// looked at (same start time): from then on the signal can only reach that
// process, whatever happens to the pid.
Result<UniqueFd> OpenProcess(pid_t pid, std::int64_t started_at) {
  UniqueFd fd(PidfdOpen(pid));
  if (!fd.valid()) {
    return Err(NotFound("process " + std::to_string(pid) + ": " + std::strerror(errno)));
  }
  auto now = proc::ReadProcessInfo(pid);
  if (!now || now->started_at != started_at) {
    return Err(NotFound("process " + std::to_string(pid) + " is gone"));
  }
  return fd;
}

Status Signal(const UniqueFd& fd, int sig, pid_t pid) {
  if (PidfdSendSignal(fd.get(), sig) != 0 && errno != ESRCH) {
    return Unavailable("cannot signal process " + std::to_string(pid) + ": " +
                       std::strerror(errno));
  }
  return Status::Ok();
}

// Sends each of `signals` to every process still in kernel session `sid`
// (none for sid <= 0). Failures are appended to errors.
void SignalSession(const std::map<pid_t, Process>& table, pid_t sid,
                   std::initializer_list<int> signals, std::vector<std::string>& errors) {
  for (const auto& [pid, p] : table) {
    if (sid <= 0 || p.info.sid != sid) continue;
    auto fd = OpenProcess(pid, p.info.started_at);
    if (!fd) continue;  // gone already
    for (int sig : signals) {
      if (Status s = Signal(*fd, sig, pid); !s.ok()) errors.push_back(s.message());
    }
  }
}

// SIGTERM to the connection's sshd process: it closes the connection.
void TerminateSshd(pid_t sshd_pid, std::int64_t started_at, std::vector<std::string>& errors) {
  if (sshd_pid <= 0) return;
  auto fd = OpenProcess(sshd_pid, started_at);
  if (!fd) return;
  if (Status s = Signal(*fd, SIGTERM, sshd_pid); !s.ok()) errors.push_back(s.message());
}

// Unrecorded sessions: session leaders whose parent is a connection's sshd
// process and whose environment names an auth file with a Gate certificate.
// Leaders that are, or are the parent of, a registered recorder are left
// to the recorded path.
std::vector<LiveSshSession> FindUnrecorded(const std::map<pid_t, Process>& table,
                                           const std::vector<LiveSshSession>& recorded,
                                           const std::vector<ssh::Ed25519PublicKey>& user_cas,
                                           std::vector<std::string>& errors) {
  std::vector<LiveSshSession> found;
  if (user_cas.empty()) return found;
  for (const auto& [pid, p] : table) {
    if (p.info.sid != pid) continue;
    const Process* sshd = SshdParent(table, pid);
    if (sshd == nullptr) continue;
    const bool has_recorder = std::any_of(recorded.begin(), recorded.end(), [&](const auto& r) {
      const Process* rec = Find(table, r.recorder_pid);
      return r.recorder_pid == pid || (rec != nullptr && rec->info.ppid == pid);
    });
    if (has_recorder) continue;
    auto environ = ReadFile("/proc/" + std::to_string(pid) + "/environ", kMaxEnviron);
    if (!environ) continue;  // exited, or a process that is not a session
    const std::optional<std::string> path = AuthInfoPathFromEnviron(*environ);
    if (!path) continue;  // no ExposeAuthInfo: not a session gate can attribute
    // Through the process's own root: gate-node may run with a private /tmp.
    FilePolicy policy;
    policy.allowed_owners = {p.info.ruid};
    policy.secret = true;
    policy.max_size = kMaxAuthInfo;
    auto text = ReadSecureFile("/proc/" + std::to_string(pid) + "/root" + *path, policy);
    if (!text) {
      errors.push_back("session of sshd pid " + std::to_string(sshd->info.pid) + ": " +
                       text.error().message());
      continue;
    }
    auto cert = SessionCertificate(text->view(), user_cas);
    if (!cert) continue;  // a password or plain-key login: not gate's
    LiveSshSession s;
    s.user = cert->user;
    s.serial = cert->serial;
    s.leader_pid = pid;
    s.leader_started_at = p.info.started_at;
    s.sshd_pid = sshd->info.pid;
    s.sshd_started_at = sshd->info.started_at;
    // The sshd process's title names the login ("sshd: alice@pts/0").
    const std::size_t colon = sshd->argv0.find(": ");
    s.login = colon == std::string::npos ? "" : sshd->argv0.substr(colon + 2);
    s.login = s.login.substr(0, s.login.find_first_of("@ "));
    found.push_back(std::move(s));
  }
  return found;
}

// Recorded sessions: trusted registry entries whose recorder is running.
std::vector<LiveSshSession> FindRecorded(const std::map<pid_t, Process>& table,
                                         const ReaperConfig& config,
                                         std::vector<std::string>& errors) {
  std::vector<LiveSshSession> found;
  if (config.run_dir.empty() || !config.recorder_uid) return found;
  auto listed = recorder::ListRegisteredSessions(config.run_dir, *config.recorder_uid);
  if (!listed) {
    if (listed.error().code() != Code::kNotFound) {
      errors.push_back("recorded sessions: " + listed.error().message());
    }
    return found;
  }
  for (const recorder::ListedSession& entry : *listed) {
    const Process* rec = Find(table, entry.session.recorder_pid);
    // Not running (a recorder killed by root leaves its entry), not a
    // recorder, or an entry older than the process: a dead recorder's
    // entry whose pid was reused.
    if (rec == nullptr || !proc::RunsOnlyAs(rec->info, *config.recorder_uid) ||
        recorder::EntryPredates(entry.written_at, rec->info.started_at)) {
      continue;
    }
    LiveSshSession s;
    s.user = entry.session.user;
    s.serial = entry.session.cert_serial;
    s.login = entry.session.login;
    s.recorded = true;
    s.session_id = entry.session.session_id;
    s.recorder_pid = rec->info.pid;
    s.recorder_started_at = rec->info.started_at;
    found.push_back(std::move(s));
  }
  return found;
}

// The connection a recorder runs in (its parent, or its parent's parent
// when the login shell forked it), and the kernel session of its child.
void FillRecordedConnection(const std::map<pid_t, Process>& table, LiveSshSession& s) {
  const Process* rec = Find(table, s.recorder_pid);
  if (rec == nullptr) return;
  for (pid_t leader : {rec->info.pid, rec->info.ppid}) {
    if (const Process* sshd = SshdParent(table, leader); sshd != nullptr) {
      s.sshd_pid = sshd->info.pid;
      s.sshd_started_at = sshd->info.started_at;
      break;
    }
  }
  for (const auto& [pid, p] : table) {
    if (p.info.ppid == rec->info.pid && p.info.sid == pid) s.leader_pid = pid;
  }
}

std::string EndedLine(const CoveredSession& c, std::string_view how) {
  return std::string(how) + " " + c.session.Describe() + " of " + c.session.user + " (login " +
         c.session.login + ", certificate serial " + std::to_string(c.session.serial) +
         "): " + std::string(c.reason.CauseName()) + ": " + c.reason.UserNotice();
}

}  // namespace

std::string LiveSshSession::Describe() const {
  if (recorded) return "recorded session " + session_id;
  return "session of sshd pid " + std::to_string(sshd_pid);
}

std::vector<CoveredSession> SessionsToEnd(const policy::Snapshot& snapshot,
                                          const std::vector<LiveSshSession>& live,
                                          std::int64_t now) {
  std::vector<CoveredSession> out;
  for (const LiveSshSession& s : live) {
    if (auto reason = policy::CoveredByLockOrRevocation(snapshot, s.user, s.serial, now)) {
      out.push_back({s, *std::move(reason)});
    }
  }
  return out;
}

std::optional<std::string> AuthInfoPathFromEnviron(std::string_view environ) {
  constexpr std::string_view kName = "SSH_USER_AUTH=";
  std::size_t pos = 0;
  while (pos < environ.size()) {
    std::size_t end = environ.find('\0', pos);
    if (end == std::string_view::npos) end = environ.size();
    const std::string_view var = environ.substr(pos, end - pos);
    if (var.starts_with(kName)) {
      const std::string_view value = var.substr(kName.size());
      if (value.empty() || value.front() != '/') return std::nullopt;
      return std::string(value);
    }
    pos = end + 1;
  }
  return std::nullopt;
}

Result<CertificateName> SessionCertificate(std::string_view auth_info,
                                           const std::vector<ssh::Ed25519PublicKey>& user_cas) {
  const std::vector<ssh::AuthInfoCertificate> certs = ssh::AuthInfoCertificates(auth_info);
  if (certs.empty()) return Err(InvalidArgument("no certificate"));
  if (certs.size() > 1) return Err(InvalidArgument("more than one certificate"));
  auto cert = ssh::ParseCertificateLine(certs.front().key);
  if (!cert) return Err(cert.error());
  if (std::find(user_cas.begin(), user_cas.end(), cert->signature_key) == user_cas.end()) {
    return Err(InvalidArgument("the certificate is not signed by this node's user CA"));
  }
  return CertificateName{cert->spec.key_id, cert->spec.serial};
}

ReapReport EndCoveredSessions(const policy::Snapshot& snapshot, const ReaperConfig& config,
                              std::int64_t now) {
  ReapReport report;
  // Nothing can be covered: no need to look at every process.
  if (snapshot.locks.empty() && snapshot.revoked_serials.empty()) return report;
  const std::map<pid_t, Process> table = ProcessTable();
  std::vector<LiveSshSession> live = FindRecorded(table, config, report.errors);
  std::vector<LiveSshSession> unrecorded =
      FindUnrecorded(table, live, config.user_cas, report.errors);
  live.insert(live.end(), unrecorded.begin(), unrecorded.end());
  report.live = live.size();

  std::vector<std::pair<CoveredSession, UniqueFd>> waiting;
  for (CoveredSession& c : SessionsToEnd(snapshot, live, now)) {
    if (!c.session.recorded) {
      // What a terminal's hangup does, and more (a program without a
      // terminal gets no SIGHUP from sshd), then the connection.
      SignalSession(table, c.session.leader_pid, {SIGHUP, SIGTERM}, report.errors);
      TerminateSshd(c.session.sshd_pid, c.session.sshd_started_at, report.errors);
      report.ended.push_back(EndedLine(c, "ended"));
      continue;
    }
    // The recorder re-checks the cache itself, tells the user and records
    // why; it is the one that can end the recording cleanly.
    auto fd = OpenProcess(c.session.recorder_pid, c.session.recorder_started_at);
    if (!fd) continue;  // it ended meanwhile
    if (Status s = Signal(*fd, SIGUSR1, c.session.recorder_pid); !s.ok()) {
      report.errors.push_back(s.message());
    }
    FillRecordedConnection(table, c.session);
    waiting.emplace_back(std::move(c), std::move(*fd));
  }

  // A pidfd polls readable once its process has exited.
  const auto deadline = std::chrono::steady_clock::now() + config.grace;
  for (auto& [c, fd] : waiting) {
    pollfd exited{fd.get(), POLLIN, 0};
    int ready = 0;
    do {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      ready = ::poll(&exited, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
    } while (ready < 0 && errno == EINTR);
    if (ready > 0) {
      report.ended.push_back(EndedLine(c, "ended"));
      continue;
    }
    // Fail closed: a recorder that did not end its session (its program
    // ignores the hangup, or it serves a port forward) has it ended here.
    // Its recording still closes: the recorder reaps the child, or sees
    // its connection go.
    report.errors.push_back("the recorder of " + c.session.Describe() + " did not end it within " +
                            std::to_string(config.grace.count()) +
                            " ms; killing its processes and its connection");
    const std::map<pid_t, Process> now_table = ProcessTable();
    SignalSession(now_table, c.session.leader_pid, {SIGKILL}, report.errors);
    TerminateSshd(c.session.sshd_pid, c.session.sshd_started_at, report.errors);
    report.ended.push_back(EndedLine(c, "forcibly ended"));
  }
  return report;
}

}  // namespace gate::node
