#include "recorder/session/recorder.h"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <exception>
#include <optional>
#include <string_view>
#include <vector>

#include "gate/asciicast.h"
#include "gate/log.h"
#include "gate/policy.h"
#include "gate/secure_file.h"
#include "recorder/session/cast_sink.h"
#include "recorder/session/child.h"
#include "recorder/session/event_loop.h"
#include "recorder/session/forward.h"
#include "recorder/session/join_request.h"
#include "recorder/session/log_file.h"
#include "recorder/session/policy_recheck.h"
#include "recorder/session/privileges.h"
#include "recorder/session/pty.h"
#include "recorder/session/session_files.h"
#include "recorder/session/transfer.h"

extern char** environ;

namespace gate::recorder {
namespace {

constexpr int kRefused = 1;

// Fail closed: with recording on, a session that cannot be recorded does
// not start. One line for the user (sshd passes our stderr to the client),
// one for the log.
int Refuse(const std::string& reason) {
  log::Error("cannot record this session: " + reason + "; access denied");
  const std::string line =
      "gate-record: cannot record this session: " + reason + "; access denied\n";
  (void)!::write(STDERR_FILENO, line.data(), line.size());
  return kRefused;
}

// A forward the recorder will not make: the reason, to the user and the log.
int RefuseForward(const std::string& what, const std::string& reason) {
  log::Warning("port forwarding to " + what + " refused: " + reason);
  const std::string line = "gate-record: port forwarding to " + what + " refused: " + reason + "\n";
  (void)!::write(STDERR_FILENO, line.data(), line.size());
  return kRefused;
}

// gate-forward HOST PORT: parsed, allowed by the certificate and by the
// node's policy (a role here grants it and none forbids it), connected as
// the user. nullopt with *refused set when the forward is refused.
std::optional<UniqueFd> OpenForward(const std::string& command, const Identity& identity,
                                    const node::CacheLocation& cache, std::int64_t now, uid_t user,
                                    ForwardTarget* target, int* refused) {
  auto parsed = ParseForwardCommand(command);
  if (!parsed) {
    *refused = RefuseForward("?", parsed.error().message());
    return std::nullopt;
  }
  *target = *parsed;
  const std::string what = parsed->Text();
  auto snapshot = node::ReadLoginSnapshot(cache, identity.user, identity.serial);
  if (!snapshot) {
    *refused = RefuseForward(what, "cache: " + snapshot.error().message());
    return std::nullopt;
  }
  if (!identity.permit_port_forwarding || !policy::MayForwardPorts(*snapshot, identity.user, now)) {
    *refused = RefuseForward(what, identity.user +
                                       " may not forward ports on this node (no role here with "
                                       "permit_port_forwarding, or a role of theirs forbids it)");
    return std::nullopt;
  }
  // The connection is the user's (its socket's owner), not gate-rec's.
  ScopedEuid as_user(user, ::getgid());
  if (!as_user.status().ok()) {
    *refused = RefuseForward(what, as_user.status().message());
    return std::nullopt;
  }
  auto socket = ConnectTo(*parsed, std::chrono::seconds(10));
  if (!socket) {
    *refused = RefuseForward(what, socket.error().message());
    return std::nullopt;
  }
  log::Info("port forwarding to " + what + " for " + identity.user + " (" + identity.login + ")");
  return std::move(*socket);
}

struct Account {
  std::string name;
  std::string shell;
};

Result<Account> AccountOf(uid_t uid) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  const int err = ::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found);
  if (err != 0 || found == nullptr) {
    return Err(NotFound("no account for uid " + std::to_string(uid)));
  }
  Account a;
  a.name = pw.pw_name;
  a.shell = pw.pw_shell != nullptr && pw.pw_shell[0] == '/' ? pw.pw_shell : "/bin/sh";
  return a;
}

// Read with the user's uid: the file is the user's, and a user must not
// be able to make the setuid recorder read a file of gate-rec's for them.
Result<std::string> ReadAuthInfo(uid_t user) {
  const char* path = std::getenv("SSH_USER_AUTH");
  if (path == nullptr || *path == '\0') {
    return Err(PermissionDenied("SSH_USER_AUTH is not set (sshd needs ExposeAuthInfo yes)"));
  }
  ScopedEuid as_user(user, ::getgid());
  GATE_RETURN_IF_ERROR(as_user.status());
  return ReadAuthInfoFile(path, user);
}

enum class Mode { kInteractive, kExecPty, kExec };

std::string_view ModeName(Mode m) {
  switch (m) {
    case Mode::kInteractive:
      return "interactive";
    case Mode::kExecPty:
      return "exec-pty";
    case Mode::kExec:
      return "exec";
  }
  return "exec";
}

std::string BaseName(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::vector<std::string> SessionEnvironment(const std::string& session_id,
                                            const RecorderOptions& options) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view var = *e;
    if (var.starts_with("GATE_SESSION_ID=") || var.starts_with("GATE_RECORDER_CONFIG=")) continue;
    env.emplace_back(var);
  }
  env.push_back("GATE_SESSION_ID=" + session_id);
  if (options.config_given) env.push_back("GATE_RECORDER_CONFIG=" + options.config_path);
  return env;
}

// Removes what a session that never started left behind, and the live
// registry entry of one that ended.
class Cleanup {
 public:
  explicit Cleanup(Env& env) : env_(env) {}
  ~Cleanup() {
    if (!spool_dir.empty()) RemoveRecordingFile(env_, spool_dir, session_id);
    if (!run_dir.empty()) RemoveLiveSession(env_, run_dir, session_id);
  }
  std::string spool_dir;  // set while the recording is not yet the session's
  std::string run_dir;
  std::string session_id;

 private:
  Env& env_;
};

int Run(const RecorderOptions& options) {
  Env& env = options.env != nullptr ? *options.env : *Env::Default();
  const ProcessIds ids = CurrentIds();
  if (ids.setuid() && ids.suid != ids.euid) return Refuse("unexpected saved uid");
  auto account = AccountOf(ids.ruid);
  if (!account) return Refuse(account.error().message());

  auto settings = LoadSettings(options.config_path);
  if (!settings) return Refuse(settings.error().message());
  // Without syslog or the journal, log lines go to the spool (never to the
  // user's terminal); best effort, the user sees every refusal anyway.
  if (CheckSessionDir(settings->spool_dir, true).ok()) (void)RouteLogToFile(settings->spool_dir);
  auto key = LoadRecorderKey(settings->key_file);
  if (!key) return Refuse(key.error().message());

  auto auth_info = ReadAuthInfo(ids.ruid);
  if (!auth_info) return Refuse(auth_info.error().message());
  node::CacheLocation cache;
  cache.dir = settings->cache_dir;
  cache.owner = 0;
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  auto identity = ResolveIdentity(*auth_info, account->name, cache, now);
  if (!identity) return Refuse(identity.error().message());
  // The identity is sshd's only if sshd ran us for this session.
  if (Status s = CheckStartedBySshd(::getppid(), ids.ruid); !s.ok()) return Refuse(s.message());

  if (Status s = CheckSessionDir(settings->spool_dir, true); !s.ok()) return Refuse(s.message());
  if (Status s = CheckSessionDir(settings->run_dir, false); !s.ok()) return Refuse(s.message());
  // gate join from a workstation: served here, on the identity sshd proved.
  const char* requested = std::getenv("SSH_ORIGINAL_COMMAND");
  if (auto join = ParseJoinRequest(requested != nullptr ? requested : "")) {
    return ServeJoinRequest({&env, settings->run_dir, settings->host_uuid, *identity, ids}, *join);
  }

  const char* command_env = std::getenv("SSH_ORIGINAL_COMMAND");
  const std::string command = command_env != nullptr ? command_env : "";
  const bool tty = ::isatty(STDIN_FILENO) == 1;
  const Mode mode = !tty                     ? Mode::kExec
                    : command_env == nullptr ? Mode::kInteractive
                                             : Mode::kExecPty;
  const bool pty = mode != Mode::kExec;
  // Without a terminal, a file transfer is audited by its byte counts;
  // anything else is recorded both ways (what it reads and what it prints).
  std::optional<Transfer> transfer;
  if (!pty) transfer = ClassifyTransfer(command, FindSystemProgram);
  // gate-forward never runs as a command: it is a forward or nothing.
  std::optional<UniqueFd> forward;
  ForwardTarget forward_target;
  if (IsForwardCommand(command)) {
    if (pty) return RefuseForward("?", "gate-forward takes no terminal (use ssh -T)");
    int refused = kRefused;
    forward = OpenForward(command, *identity, cache, now, ids.ruid, &forward_target, &refused);
    if (!forward) return refused;
  }

  auto session_id = NewSessionId();
  if (!session_id) return Refuse(session_id.error().message());
  Cleanup cleanup(env);
  cleanup.session_id = *session_id;
  auto file = CreateRecordingFile(env, settings->spool_dir, *session_id);
  if (!file) return Refuse(file.error().message());
  cleanup.spool_dir = settings->spool_dir;

  winsize ws{};
  ws.ws_col = 80;
  ws.ws_row = 24;
  if (pty) (void)GetWindowSize(STDIN_FILENO, ws);
  cast::Header header;
  header.width = ws.ws_col;
  header.height = ws.ws_row;
  header.timestamp = now;
  if (const char* term = std::getenv("TERM"); term != nullptr) header.env["TERM"] = term;
  header.env["SHELL"] = account->shell;
  header.title = identity->user + "@" + settings->node_name;
  header.session_id = *session_id;
  header.user = identity->user;
  header.login = identity->login;
  header.node = settings->host_uuid;
  header.node_name = settings->node_name;
  header.cluster = settings->cluster_name;
  header.cert_serial = std::to_string(identity->serial);
  header.mode = std::string(ModeName(mode));
  header.command = command;
  header.key = key->public_key().Fingerprint();
  const auto start = std::chrono::steady_clock::now();
  auto writer = cast::Writer::Create(std::move(*file), header, *key);
  if (!writer) return Refuse("cannot write the recording: " + writer.error().message());
  std::unique_ptr<RecordingSink> sink = MakeCastSink(std::move(*writer));

  auto signal_fd = BlockSessionSignals();
  if (!signal_fd) return Refuse(signal_fd.error().message());

  LiveSession live;
  live.session_id = *session_id;
  live.user = identity->user;
  live.login = identity->login;
  live.node = settings->host_uuid;
  live.recorder_pid = ::getpid();
  live.started_at = now;
  live.mode = std::string(ModeName(mode));
  live.cert_serial = identity->serial;

  if (forward) {
    if (ids.setuid()) {
      if (Status s = DropPrivilegesFully(ids.euid, ids.egid, ids.ruid); !s.ok()) {
        return Refuse("cannot drop privileges: " + s.message());
      }
    }
    cleanup.run_dir = settings->run_dir;
    if (Status s = WriteLiveSession(env, settings->run_dir, live); !s.ok()) {
      return Refuse("cannot register the session: " + s.message());
    }
    cleanup.spool_dir.clear();
    const ForwardEnd end =
        RelayForward(STDIN_FILENO, STDOUT_FILENO, forward->get(), signal_fd->get());
    std::string exit_json = "{\"exit_status\":0,\"forward\":\"" + forward_target.Text() +
                            "\",\"bytes_in\":" + std::to_string(end.bytes_in) +
                            ",\"bytes_out\":" + std::to_string(end.bytes_out) + "}";
    const double t =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    sink->Exit(t, exit_json);
    Status closed = sink->Close(t);
    if (!closed.ok()) log::Error("session " + *session_id + ": recording: " + closed.ToString());
    log::Info("session " + *session_id + " ended: " + exit_json +
              (end.hung_up ? " (hung up)" : ""));
    return 0;
  }

  LoopFds fds;
  UniqueFd child_in_read, child_out_write, child_err_write;
  if (pty) {
    // The slave belongs to whoever opens the master: the user.
    ScopedEuid as_user(ids.ruid, ids.rgid);
    if (!as_user.status().ok()) return Refuse(as_user.status().message());
    auto master = OpenPtyMaster();
    if (!master) return Refuse(master.error().message());
    if (Status s = SetWindowSize(master->get(), ws); !s.ok()) return Refuse(s.message());
    fds.master = std::move(*master);
    fds.outer_in = STDIN_FILENO;
    fds.outer_out = STDOUT_FILENO;
    fds.winsize_from = STDIN_FILENO;
  } else {
    // The session's stdio goes through the recorder: it counts (and, but for
    // transfers, records) every byte, and passes each EOF on.
    for (auto [read_end, write_end] : {std::pair{&child_in_read, &fds.child_stdin},
                                       std::pair{&fds.child_stdout, &child_out_write},
                                       std::pair{&fds.child_stderr, &child_err_write}}) {
      int p[2];
      if (::pipe2(p, O_CLOEXEC) != 0) return Refuse(std::string("pipe: ") + std::strerror(errno));
      read_end->Reset(p[0]);
      write_end->Reset(p[1]);
    }
    fds.outer_in = STDIN_FILENO;
    fds.outer_out = STDOUT_FILENO;
    fds.outer_err = STDERR_FILENO;
  }

  ChildSpec spec;
  spec.program = account->shell;
  if (transfer) {
    // The system's program itself, not through the user's shell.
    spec.program = transfer->program;
    spec.argv = transfer->argv;
  } else if (command_env == nullptr) {
    spec.argv = {"-" + BaseName(account->shell)};
  } else {
    spec.argv = {BaseName(account->shell), "-c", command};
  }
  spec.env = SessionEnvironment(*session_id, options);
  spec.pty_master = pty ? fds.master.get() : -1;
  spec.stdin_fd = child_in_read.get();
  spec.stdout_fd = child_out_write.get();
  spec.stderr_fd = child_err_write.get();
  if (ids.setuid()) spec.become = ChildSpec::User{ids.ruid, ids.rgid, ids.euid};
  auto child = Child::Spawn(spec);
  if (!child) return Refuse(child.error().message());
  child_in_read.Reset();
  child_out_write.Reset();
  child_err_write.Reset();

  // From here the user can neither signal nor trace us. Until Release()
  // the child has not run anything; if we stop here, it exits.
  if (ids.setuid()) {
    if (Status s = DropPrivilegesFully(ids.euid, ids.egid, ids.ruid); !s.ok()) {
      return Refuse("cannot drop privileges: " + s.message());
    }
  }
  LoopOptions loop_options;
  loop_options.child = child->pid();
  loop_options.record_input = settings->record_input;
  loop_options.flush_interval = std::chrono::milliseconds(settings->flush_interval_ms);
  loop_options.start = start;
  loop_options.record_exec_input = !pty && !transfer;
  loop_options.record_exec_output = !pty && (!transfer || settings->record_exec_output);
  loop_options.count_bytes = !pty;
  if (transfer) loop_options.exit_note = "\"transfer\":\"" + transfer->kind + "\"";
  loop_options.recheck = [cache, user = identity->user, serial = identity->serial] {
    return RecheckSession(cache, user, serial, static_cast<std::int64_t>(std::time(nullptr)));
  };
  auto loop = EventLoop::Create(std::move(fds), loop_options, std::move(*signal_fd), *sink);
  if (!loop) return Refuse(loop.error().message());

  if (tty) {
    char name[256];
    if (::ttyname_r(STDIN_FILENO, name, sizeof(name)) == 0) live.tty = name;
  }
  if (pty && options.hub_factory) {
    HubRequest request;
    request.socket_path = settings->run_dir + "/" + *session_id + ".sock";
    request.summary = {*session_id, identity->user, identity->login};
    request.settings = &*settings;
    request.identity = &*identity;
    auto hub = options.hub_factory(request, (*loop)->HubCallbacks());
    if (hub) {
      live.socket = request.socket_path;
      (*loop)->AttachHub(std::move(*hub));
    } else {
      log::Warning("session " + *session_id + ": no live join: " + hub.error().message());
    }
  }
  cleanup.run_dir = settings->run_dir;
  if (Status s = WriteLiveSession(env, settings->run_dir, live); !s.ok()) {
    return Refuse("cannot register the session: " + s.message());
  }
  // A sync that installed a lock after we read the cache, and looked for
  // sessions to end before our entry existed, would miss this session: look
  // again now that it is registered (a later sync's signal reaches it).
  if (auto ending = RecheckSession(cache, identity->user, identity->serial,
                                   static_cast<std::int64_t>(std::time(nullptr)))) {
    return Refuse(ending->notice);
  }

  std::optional<RawMode> raw;
  if (pty) {
    auto entered = RawMode::Enter(STDIN_FILENO);
    if (!entered) return Refuse(entered.error().message());
    raw.emplace(std::move(*entered));
  }

  log::Info("session " + *session_id + " started: user=" + identity->user +
            " login=" + identity->login + " serial=" + std::to_string(identity->serial) + " mode=" +
            std::string(ModeName(mode)) + (command.empty() ? "" : " command=" + command));
  cleanup.spool_dir.clear();  // from now on the recording is the session's
  child->Release();
  const SessionEnd end = (*loop)->Run();
  if (raw) raw->Restore();
  if (!end.recording.ok()) {
    // The session is over either way (fail closed: a failure during it ended
    // it); what is in the spool verifies only up to its last good checkpoint.
    log::Error("session " + *session_id + ": recording failed: " + end.recording.ToString());
    const std::string line =
        "gate-record: the recording of this session is incomplete: " + end.recording.message() +
        "\n";
    (void)!::write(STDERR_FILENO, line.data(), line.size());
  }
  log::Info("session " + *session_id + " ended: " + end.exit_json +
            (end.hung_up ? " (hung up)" : ""));
  if (end.ended_by) {
    log::Warning("session " + *session_id + " of " + identity->user + " (login " + identity->login +
                 ") ended: " + end.ended_by->cause + ": " + end.ended_by->notice);
  }
  return end.exit_code;
}

}  // namespace

int RunRecorder(const RecorderOptions& options) noexcept {
  try {
    return Run(options);
  } catch (const std::exception& e) {
    return Refuse(std::string("internal error: ") + e.what());
  } catch (...) {
    return Refuse("internal error");
  }
}

}  // namespace gate::recorder
