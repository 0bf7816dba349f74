// gate-node leave: undo gate-node join. sshd stops trusting gate first (the
// drop-in and host certificate go, sshd -t, reload), then gate-ca is told
// to forget the node, then the node's own files go. Whatever join replaced
// or created (a previous drop-in or host certificate, the data dir, the
// gate-principals user) is put back as it was.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "gate/curl_http.h"
#include "gate/exit_code.h"
#include "gate/node_cache.h"
#include "gate/refusal_spool.h"
#include "gate/secure_file.h"
#include "sshd-hooks/node/commands.h"
#include "sshd-hooks/node/join_files.h"
#include "sshd-hooks/node/record_setup.h"
#include "sshd-hooks/node/refusal_shipper.h"
#include "sshd-hooks/node/sync_status.h"
#include "sshd-hooks/node/syncer.h"
#include "sshd-hooks/node/system_user.h"
#include "sshd-hooks/principals/drop_in.h"

namespace gate::node {
namespace {

constexpr char kTool[] = "gate-node leave";

std::string BaseName(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Where path should end up: its pre-join copy, or nothing.
Status Restore(const std::string& path, const std::optional<Backup>& backup) {
  if (backup) return WriteFileAtomic(path, backup->content, backup->mode);
  return PutBack(path, std::nullopt);
}

class LeaveCommand final : public cli::Command {
 public:
  void Define(CLI::App& sub) override {
    paths_.Define(sub);
    sub.footer(
        "Removes this node from its gate cluster and restores the host as it was before\n"
        "gate-node join: removes the sshd drop-in 50-gate.conf and the host certificate (or puts\n"
        "back the files join replaced, saved in DATA_DIR/pre-join), checks the configuration\n"
        "with sshd -t and reloads sshd; then tells gate-ca to forget the node (DELETE\n"
        "/v1/nodes/self; best effort: a warning if gate-ca cannot be reached); then removes\n"
        "the policy cache, node.json, the data dir if join created it, and the\n"
        "gate-principals system user if join created it.\n"
        "If sshd rejects the configuration without the drop-in, nothing is removed.\n\n"
        "Recording (gate-node record on): the ForceCommand goes with the drop-in; the\n"
        "recorder's private key, recorder.json and run directory are removed. Recordings not\n"
        "yet uploaded are never deleted: if the spool holds any, the spool, recorder.pub\n"
        "(to verify them) and the recorder user that owns them stay, and leave says so; with\n"
        "an empty spool those go too, with the directories and the user record on created\n"
        "(the recorder binary is given back to root, 0755). Run gate-node upload before\n"
        "leaving: after leave the node can no longer upload.\n\n" +
        std::string(kNodeFilesHelp));
  }

  int Run() override {
    if (Status s = RequireRoot(); !s.ok()) return cli::Fail(kTool, s);
    auto state = ReadNodeState(paths_.NodeStatePath());
    if (!state) {
      if (state.error().code() == Code::kNotFound) {
        return cli::Fail(kTool,
                         NotFound("this node is not joined (no " + paths_.NodeStatePath() + ")"));
      }
      return cli::Fail(kTool, state.error());
    }

    auto record = LoadRecordState(paths_);
    if (!record) return cli::Fail(kTool, record.error());
    if (*record) {
      auto pending = CountFiles((*record)->spool_dir, ".cast");
      if (pending && *pending > 0) {
        std::cerr << "WARNING: " << *pending << " recording(s) in " << (*record)->spool_dir
                  << " have not been uploaded to gate-ca; after leave this node cannot upload "
                     "them. They are kept. (Run gate-node upload first to ship them.)\n";
      }
    }

    if (Status s = RestoreSshd(*state); !s.ok()) return cli::Fail(kTool, s);

    const HttpClient client = CurlHttpClient(NodeClientOptions(*state));
    // The last refused logins, while the node may still report them.
    const std::string refusals = RefusalSpoolDir(paths_.CacheDir());
    if (auto shipped = ShipRefusals(refusals, client); !shipped) {
      std::cerr << "WARNING: refused logins not yet in gate-ca's audit log are dropped: "
                << shipped.error().message() << "\n";
    }
    auto forgot = client.Call("DELETE", "/v1/nodes/self");
    if (forgot) {
      Note("gate-ca forgot node " + state->host_uuid);
    } else {
      std::cerr << "WARNING: could not tell gate-ca to forget node " << state->host_uuid << " ("
                << forgot.error().message() << "); remove it there by hand\n";
    }

    Status cleanup = Status::Ok();
    if (*record) {
      std::vector<std::string> notes;
      cleanup = TearDownRecorder(paths_, **record, &notes);
      for (const std::string& note : notes) Note(note);
    }
    if (cleanup.ok()) cleanup = RemoveNodeFiles(*state);
    if (!cleanup.ok()) {
      std::cout << summary_;
      return cli::Fail(kTool, cleanup.WithContext("sshd no longer trusts gate, but cleaning up "
                                                  "failed (run gate-node leave again)"));
    }
    std::cout << "Left the cluster; node " << state->host_uuid << " is gone.\n" << summary_;
    return cli::kExitOk;
  }

 private:
  void Note(const std::string& line) { summary_ += "  " + line + "\n"; }

  Status RestoreSshd(const NodeState& state) {
    const std::string drop_in = paths_.DropInPath();
    const std::string cert = paths_.HostCertPath();
    auto current_drop_in = ReadIfExists(drop_in);
    if (!current_drop_in) return current_drop_in.error();
    auto current_cert = ReadIfExists(cert);
    if (!current_cert) return current_cert.error();
    std::optional<Backup> drop_in_backup;
    std::optional<Backup> cert_backup;
    if (state.drop_in_backed_up) {
      auto b = ReadBackup(paths_, BaseName(drop_in));
      if (!b) return b.error();
      drop_in_backup = std::move(*b);
    }
    if (state.host_cert_backed_up) {
      auto b = ReadBackup(paths_, BaseName(cert));
      if (!b) return b.error();
      cert_backup = std::move(*b);
    }

    GATE_RETURN_IF_ERROR(Restore(drop_in, drop_in_backup));
    Status s = Restore(cert, cert_backup);
    if (s.ok()) s = hooks::TestSshdConfig(paths_.sshd_binary, paths_.sshd_config);
    if (!s.ok()) {
      // Leave the node as it was rather than half-detached.
      (void)PutBack(drop_in, *current_drop_in);
      (void)PutBack(cert, *current_cert);
      return Status(s.code(), s.message() + "\n(nothing was changed)");
    }
    Note(std::string(drop_in_backup ? "restored " : "removed ") + drop_in);
    Note(std::string(cert_backup ? "restored " : "removed ") + cert);

    const bool changed =
        current_drop_in->has_value() || current_cert->has_value() || drop_in_backup || cert_backup;
    if (changed) {
      const hooks::ReloadMethod method = paths_.Reload();
      GATE_RETURN_IF_ERROR(hooks::ReloadSshd(method).WithContext(
          "sshd no longer references gate, but was not reloaded"));
      Note(ReloadNote(method));
    }
    return Status::Ok();
  }

  Status Remove(const std::string& path) {
    if (::unlink(path.c_str()) == 0) {
      Note("removed " + path);
      return Status::Ok();
    }
    if (errno == ENOENT) return Status::Ok();
    return Unavailable("cannot remove " + path + ": " + std::strerror(errno));
  }

  Status RemoveDir(const std::string& dir) {
    if (::rmdir(dir.c_str()) == 0) {
      Note("removed " + dir + "/");
      return Status::Ok();
    }
    if (errno == ENOENT) return Status::Ok();
    if (errno == ENOTEMPTY || errno == EEXIST) {
      std::cerr << "WARNING: " << dir << " holds files gate did not write; left in place\n";
      return Status::Ok();
    }
    return Unavailable("cannot remove " + dir + ": " + std::strerror(errno));
  }

  Status RemoveNodeFiles(const NodeState& state) {
    node::CacheLocation cache;
    cache.dir = paths_.CacheDir();
    GATE_RETURN_IF_ERROR(Remove(cache.PolicyPath()));
    GATE_RETURN_IF_ERROR(Remove(cache.UserCaPath()));
    GATE_RETURN_IF_ERROR(Remove(cache.KrlPath()));
    GATE_RETURN_IF_ERROR(Remove(cache.SyncStampPath()));
    GATE_RETURN_IF_ERROR(RemoveDir(cache.dir));
    const std::string refusals = RefusalSpoolDir(cache.dir);
    GATE_RETURN_IF_ERROR(Remove(refusals + "/" + std::string(node::kRefusalSpoolFile)));
    GATE_RETURN_IF_ERROR(Remove(refusals + "/" + std::string(node::kRefusalSendingFile)));
    GATE_RETURN_IF_ERROR(RemoveDir(refusals));
    const std::string backup_dir = paths_.BackupDir();
    GATE_RETURN_IF_ERROR(Remove(backup_dir + "/" + BaseName(paths_.DropInPath())));
    GATE_RETURN_IF_ERROR(Remove(backup_dir + "/" + BaseName(paths_.HostCertPath())));
    GATE_RETURN_IF_ERROR(RemoveDir(backup_dir));
    if (!state.created_principals_user.empty()) {
      GATE_RETURN_IF_ERROR(RemoveSystemUser(state.created_principals_user));
      Note("removed user " + state.created_principals_user);
    }
    if (state.created_cache_group) {
      GATE_RETURN_IF_ERROR(RemoveSystemGroup(std::string(node::kCacheGroup)));
      Note("removed group " + std::string(node::kCacheGroup));
    }
    GATE_RETURN_IF_ERROR(Remove(paths_.data_dir + "/" + kSyncStatusFile));
    // Last: while node.json exists, running leave again finishes the job.
    GATE_RETURN_IF_ERROR(Remove(paths_.NodeStatePath()));
    if (state.created_data_dir) GATE_RETURN_IF_ERROR(RemoveDir(paths_.data_dir));
    return Status::Ok();
  }

  NodePaths paths_;
  std::string summary_;
};

}  // namespace

std::unique_ptr<cli::Command> MakeLeaveCommand() { return std::make_unique<LeaveCommand>(); }

}  // namespace gate::node
