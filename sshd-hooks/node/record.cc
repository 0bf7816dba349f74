// gate-node record on|off|status: session recording on this node
// (docs/recording.md, "Turning recording on"). The work is in
// record_setup.h; these commands add the sshd drop-in and the reporting.
#include <iostream>

#include "gate/curl_http.h"
#include "gate/exit_code.h"
#include "gate/node_cache.h"
#include "sshd-hooks/node/commands.h"
#include "sshd-hooks/node/join_files.h"
#include "sshd-hooks/node/record_setup.h"
#include "sshd-hooks/node/sshd.h"
#include "sshd-hooks/node/syncer.h"
#include "sshd-hooks/principals/drop_in.h"

namespace gate::node {
namespace {

constexpr char kFilesHelp[] =
    "Files (defaults; each has a flag):\n"
    "  /usr/libexec/gate/gate-record   the recorder; made gate-rec:gate-cache, mode 6755\n"
    "                                  (--recorder-command, --recorder-user)\n"
    "  /etc/gate/recorder.json         root 0644: recorder settings (--recorder-config)\n"
    "  /etc/gate/recorder.pub          root 0644: the recorder key's public half (beside it)\n"
    "  /var/lib/gate-rec/recorder.key  gate-rec 0600: Ed25519 key signing checkpoints, in a\n"
    "                                  gate-rec 0700 directory (--recorder-key-dir)\n"
    "  /var/spool/gate/sessions/       gate-rec 0700: recordings until uploaded (--spool-dir)\n"
    "  /run/gate/sessions/             gate-rec 0755: live sessions (--run-dir)\n"
    "  /var/lib/gate-node/record.json  root 0600: what record on set up, for off, join and\n"
    "                                  leave\n";

// Installs the drop-in `record` calls for and checks that sshd applies its
// ForceCommand. Returns whether the file changed.
Result<bool> ApplyDropIn(const NodePaths& paths, const NodeState& node,
                         const hooks::RecordState& record) {
  const hooks::DropInSettings settings = NodeDropIn(paths, node, &record);
  GATE_RETURN_IF_ERROR(hooks::ValidateDropIn(settings));
  auto changed = InstallDropIn(paths, hooks::RenderDropIn(settings));
  if (!changed) return Err(changed.error());
  if (record.all_sessions) {
    const std::string command = hooks::RecordCommandOf(settings);
    auto effective = hooks::SshdEffectiveSettingIs(paths.sshd_binary, paths.sshd_config,
                                                   "forcecommand", command);
    if (!effective) return Err(effective.error());
    if (!*effective) {
      return Err(FailedPrecondition(
          "sshd -T does not show ForceCommand " + command + ": " + paths.sshd_config +
          " sets ForceCommand before it Includes " + paths.sshd_config_dir +
          "/*.conf (sshd keeps the first value), or does not Include it; sessions would not be "
          "recorded. Remove that ForceCommand or add `Include " +
          paths.sshd_config_dir + "/*.conf` at the top, then run this again"));
    }
    // sshd forwards out of the recorder's sight: an earlier
    // AllowTcpForwarding would leave that open.
    auto forwarding = hooks::SshdEffectiveSettingIs(paths.sshd_binary, paths.sshd_config,
                                                    "allowtcpforwarding", "no");
    if (!forwarding) return Err(forwarding.error());
    if (!*forwarding) {
      return Err(FailedPrecondition(
          "sshd -T does not show AllowTcpForwarding no: " + paths.sshd_config +
          " sets AllowTcpForwarding before it Includes " + paths.sshd_config_dir +
          "/*.conf (sshd keeps the first value); ssh -L/-R/-D/-W would bypass the recorder. "
          "Remove that AllowTcpForwarding, then run this again"));
    }
  }
  return changed;
}

void PrintNotes(const std::vector<std::string>& notes) {
  for (const std::string& note : notes) std::cout << "  " << note << "\n";
}

class RecordOnCommand final : public cli::Command {
 public:
  void Define(CLI::App& sub) override {
    sub.add_flag("--roles-only", roles_only_,
                 "Set up the recorder but do not force it on every session: only sessions of "
                 "roles with record_sessions are recorded");
    sub.add_flag("--input", options_.record_input,
                 "Also record what users type, when the terminal echoes it (record_input)");
    sub.add_flag("--exec-output", options_.record_exec_output,
                 "Also record the bytes of file transfers (scp, sftp, rsync); by default they "
                 "are audited as metadata: command and bytes (record_exec_output)");
    sub.add_option("--flush-interval", options_.flush_interval_ms,
                   "Milliseconds between the recorder's flushes and signed checkpoints, 10 to "
                   "60000 (default 100)");
    sub.add_option("--join-history-bytes", options_.join_history_bytes,
                   "How much of a session's output a live joiner is shown first, kept on disk "
                   "while the session runs: 0 (none on disk: the last 256 KiB, from memory) or "
                   "1048576 (1 MiB) to 2^40 (default 67108864, 64 MiB) (join_history_bytes)");
    paths_.Define(sub);
    sub.footer(
        std::string(
            "Turns session recording on for this node, as root. Every session then runs under\n"
            "gate-record, which records the terminal to an asciicast file in the spool, signs it\n"
            "as it goes, and lets permitted users join live; gate-node upload ships it to "
            "gate-ca.\n\n"
            "Steps: creates the recorder user (--recorder-user, default gate-rec) if missing;\n"
            "makes the recorder binary owned by it and setuid, and setgid to gate-cache (6755;\n"
            "the group that may read the policy cache), after checking that it and\n"
            "every directory above it are root's and not group/other-writable; creates the key\n"
            "directory, the spool and the run directory owned by that user; generates the\n"
            "recorder key (Ed25519) unless a valid one exists, and writes its public half to\n"
            "recorder.pub; writes recorder.json from node.json (cluster name, host UUID, proxy),\n"
            "this host's name and the flags; registers the public key with gate-ca (PUT\n"
            "/v1/nodes/recorder-key, with the node's credentials); then, unless --roles-only,\n"
            "adds `ForceCommand <recorder>` to the sshd drop-in 50-gate.conf, checks the whole\n"
            "configuration with sshd -t (restoring the previous drop-in if sshd rejects it),\n"
            "checks with sshd -T that the ForceCommand is in force, and reloads sshd.\n\n"
            "An existing recorder key is kept only if it is the recorder user's own 0600 file\n"
            "holding an unencrypted Ed25519 key; anything else (a symlink, another owner, a\n"
            "group- or world-readable mode, a file that does not parse) stops the command with\n"
            "the reason, and the file is left alone: remove it to have a new key generated.\n\n"
            "Idempotent: running it again rewrites only what differs. The flags describe the\n"
            "whole wanted state: `record on --roles-only` on a node recording every session\n"
            "takes the ForceCommand away again. Use the same path flags as gate-node join; the\n"
            "command refuses to rewrite a drop-in that differs from what they produce.\n\n"
            "Roles: whatever this node does, gate-principals makes sshd run the recorder for\n"
            "users holding a role with record_sessions that selects this node (gatectl roles\n"
            "update NAME --record-sessions=true); such logins need the files this writes, so\n"
            "run at least `gate-node record on --roles-only` on those nodes.\n\n"
            "Examples:\n"
            "  gate-node record on\n"
            "  gate-node record on --roles-only\n"
            "  gate-node record on --input --flush-interval 250\n\n") +
        kFilesHelp + "\n" + kNodeFilesHelp);
  }

  int Run() override {
    constexpr char kTool[] = "gate-node record on";
    if (Status s = RequireRoot(); !s.ok()) return cli::Fail(kTool, s);
    options_.all_sessions = !roles_only_;
    if (Status s = CheckRecordFlags(paths_, options_); !s.ok()) return cli::Fail(kTool, s);
    auto node = ReadJoinedNode(paths_.data_dir);
    if (!node) return cli::Fail(kTool, node.error());
    auto previous = LoadRecordState(paths_);
    if (!previous) return cli::Fail(kTool, previous.error());
    const hooks::RecordState* before = *previous ? &**previous : nullptr;
    if (Status s = CheckDropInUnchanged(paths_, *node, before); !s.ok()) {
      return cli::Fail(kTool, s);
    }

    std::vector<std::string> notes;
    const HttpClient client = CurlHttpClient(NodeClientOptions(*node));
    auto state = SetUpRecorder(paths_, *node, options_, *previous, client, &notes);
    if (!state) {
      PrintNotes(notes);
      return cli::Fail(kTool, state.error());
    }
    auto changed = ApplyDropIn(paths_, *node, *state);
    if (!changed) {
      PrintNotes(notes);
      return cli::Fail(kTool, changed.error());
    }
    if (Status s = hooks::WriteRecordState(paths_.RecordStatePath(), *state); !s.ok()) {
      return cli::Fail(kTool, s);
    }
    const std::string command = hooks::RecordCommandOf(NodeDropIn(paths_, *node, &*state));
    notes.push_back(std::string(*changed ? "wrote     " : "unchanged ") + paths_.DropInPath() +
                    (state->all_sessions ? "  (ForceCommand " + command + ")"
                                         : "  (no ForceCommand: roles only)"));
    std::string reload = "sshd not reloaded (its configuration did not change)";
    if (*changed) {
      const hooks::ReloadMethod method = paths_.Reload();
      if (Status s = hooks::ReloadSshd(method); !s.ok()) {
        PrintNotes(notes);
        return cli::Fail(kTool, s.WithContext("recording is configured but sshd was not reloaded"));
      }
      reload = ReloadNote(method);
    }
    std::cout << (state->all_sessions
                      ? "Recording every session on this node.\n"
                      : "Recorder ready; recording sessions of roles with record_sessions only.\n");
    PrintNotes(notes);
    std::cout << reload << ".\n";
    return cli::kExitOk;
  }

 private:
  bool roles_only_ = false;
  RecordOptions options_;
  NodePaths paths_;
};

class RecordOffCommand final : public cli::Command {
 public:
  void Define(CLI::App& sub) override {
    paths_.Define(sub);
    sub.footer(
        std::string(
            "Stops recording every session on this node, as root: removes the ForceCommand from\n"
            "the sshd drop-in (checked with sshd -t, restored if sshd rejects the result) and\n"
            "reloads sshd. Sessions already running stay recorded to their end.\n\n"
            "Everything else stays: the recorder, its key (still registered with gate-ca), its\n"
            "settings, and the spool with every recording not yet uploaded, which gate-node\n"
            "upload keeps shipping. Users holding a role with record_sessions that selects this\n"
            "node are still recorded (that is the cluster's policy, not the node's); gate-node\n"
            "leave removes the recorder altogether. Running it again, or on a node where\n"
            "recording was never on, changes nothing.\n\n") +
        kFilesHelp + "\n" + kNodeFilesHelp);
  }

  int Run() override {
    constexpr char kTool[] = "gate-node record off";
    if (Status s = RequireRoot(); !s.ok()) return cli::Fail(kTool, s);
    auto node = ReadJoinedNode(paths_.data_dir);
    if (!node) return cli::Fail(kTool, node.error());
    auto previous = LoadRecordState(paths_);
    if (!previous) return cli::Fail(kTool, previous.error());
    if (!*previous) {
      std::cout << "Recording was never turned on on this node; nothing changed.\n";
      return cli::kExitOk;
    }
    hooks::RecordState state = **previous;
    if (Status s = CheckDropInUnchanged(paths_, *node, &state); !s.ok()) {
      return cli::Fail(kTool, s);
    }
    state.all_sessions = false;
    auto changed = ApplyDropIn(paths_, *node, state);
    if (!changed) return cli::Fail(kTool, changed.error());
    if (Status s = hooks::WriteRecordState(paths_.RecordStatePath(), state); !s.ok()) {
      return cli::Fail(kTool, s);
    }
    std::string reload = "sshd not reloaded (its configuration did not change)";
    if (*changed) {
      const hooks::ReloadMethod method = paths_.Reload();
      if (Status s = hooks::ReloadSshd(method); !s.ok()) {
        return cli::Fail(kTool, s.WithContext("the ForceCommand is gone from " +
                                              paths_.DropInPath() + " but sshd was not reloaded"));
      }
      reload = ReloadNote(method);
    }
    auto pending = CountFiles(state.spool_dir, ".cast");
    std::cout << "No longer recording every session on this node"
              << (*changed ? "" : " (it already was not)") << ".\n"
              << "  " << (*changed ? "wrote     " : "unchanged ") << paths_.DropInPath()
              << "  (no ForceCommand)\n"
              << "  kept      " << state.KeyFile() << ", " << state.config_file << ", "
              << state.spool_dir
              << (pending ? "  (" + std::to_string(*pending) + " recording(s) waiting for upload)"
                          : std::string())
              << "\n"
              << "Sessions of roles with record_sessions are still recorded.\n"
              << reload << ".\n";
    return cli::kExitOk;
  }

 private:
  NodePaths paths_;
};

class RecordStatusCommand final : public cli::Command {
 public:
  void Define(CLI::App& sub) override {
    paths_.Define(sub);
    sub.footer(
        std::string(
            "Prints, as root, whether this node records every session, only sessions of roles\n"
            "with record_sessions, or nothing; where the recorder's files are; how many\n"
            "recordings wait in the spool for upload and how many sessions are live; whether\n"
            "sshd applies the ForceCommand (sshd -T); and which roles in the policy cache\n"
            "record sessions on this node. Changes nothing. Exit status 0 whatever the state,\n"
            "non-zero only if the state cannot be read.\n\n") +
        kFilesHelp + "\n" + kNodeFilesHelp);
  }

  int Run() override {
    constexpr char kTool[] = "gate-node record status";
    if (Status s = RequireRoot(); !s.ok()) return cli::Fail(kTool, s);
    auto previous = LoadRecordState(paths_);
    if (!previous) return cli::Fail(kTool, previous.error());
    const std::vector<std::string> roles = RecordingRoles();
    if (!*previous) {
      std::cout << "Recording: off (gate-node record on has not run on this node)\n";
      if (!roles.empty()) {
        std::cout << "WARNING: role(s) " << Join(roles)
                  << " record sessions on this node, but the recorder is not set up: their "
                     "holders' logins will fail until `gate-node record on --roles-only` (or "
                     "`record on`) runs here.\n";
      }
      return cli::kExitOk;
    }
    const hooks::RecordState& s = **previous;
    std::cout << "Recording: "
              << (s.all_sessions ? "every session" : "sessions of roles with record_sessions only")
              << "\n";
    std::cout << "  recorder     " << s.recorder_command << " (setuid " << s.recorder_user << ")\n";
    std::cout << "  settings     " << s.config_file << "\n";
    std::cout << "  key          " << s.KeyFile() << "  " << s.key_fingerprint << "\n";
    std::cout << "  public key   " << s.public_key_file << "\n";
    auto pending = CountFiles(s.spool_dir, ".cast");
    std::cout << "  spool        " << s.spool_dir << "  ("
              << (pending ? std::to_string(*pending) + " recording(s) waiting for upload"
                          : pending.error().message())
              << ")\n";
    auto live = CountFiles(s.run_dir, ".json");
    std::cout << "  live         " << s.run_dir << "  ("
              << (live ? std::to_string(*live) + " live session(s)" : live.error().message())
              << ")\n";
    if (s.all_sessions) {
      // The recorder's command line does not depend on the node's identity.
      const std::string command = hooks::RecordCommandOf(NodeDropIn(paths_, NodeState{}, &s));
      auto effective = hooks::SshdEffectiveSettingIs(paths_.sshd_binary, paths_.sshd_config,
                                                     "forcecommand", command);
      std::string line = "WARNING: ForceCommand " + command + " is NOT in force (sshd -T)";
      if (!effective) line = "sshd -T failed: " + effective.error().message();
      if (effective && *effective) line = "ForceCommand " + command + " in force";
      std::cout << "  sshd         " << line << "\n";
    }
    std::cout << "  roles        "
              << (roles.empty() ? "none record sessions on this node"
                                : Join(roles) +
                                      " record sessions on "
                                      "this node")
              << "\n";
    return cli::kExitOk;
  }

 private:
  // Roles in the policy cache with record_sessions whose selector matches
  // this node; empty if the cache cannot be read.
  std::vector<std::string> RecordingRoles() const {
    node::CacheLocation cache;
    cache.dir = paths_.CacheDir();
    auto snapshot = node::ReadSnapshot(cache);
    std::vector<std::string> out;
    if (!snapshot) return out;
    for (const policy::Role& role : snapshot->roles) {
      if (role.record_sessions && policy::LabelsMatch(role.node_labels, snapshot->node_labels)) {
        out.push_back(role.name);
      }
    }
    return out;
  }

  static std::string Join(const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
  }

  NodePaths paths_;
};

}  // namespace

std::unique_ptr<cli::Command> MakeRecordOnCommand() { return std::make_unique<RecordOnCommand>(); }
std::unique_ptr<cli::Command> MakeRecordOffCommand() {
  return std::make_unique<RecordOffCommand>();
}
std::unique_ptr<cli::Command> MakeRecordStatusCommand() {
  return std::make_unique<RecordStatusCommand>();
}

}  // namespace gate::node
