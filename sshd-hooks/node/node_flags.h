// Flags every gate-node command shares: where the node's files live and how
// to check and reload sshd. The defaults are a Debian host's; tests point
// every path into a scratch directory.
#ifndef GATE_SSHD_HOOKS_NODE_NODE_FLAGS_H_
#define GATE_SSHD_HOOKS_NODE_NODE_FLAGS_H_

#include <CLI/CLI.hpp>
#include <string>

#include "gate/http_client.h"
#include "gate/node_state.h"
#include "gate/status.h"
#include "sshd-hooks/node/sshd.h"
#include "sshd-hooks/principals/staleness.h"

namespace gate::node {

struct NodePaths {
  std::string data_dir = "/var/lib/gate-node";
  std::string ssh_dir = "/etc/ssh";
  std::string sshd_config_dir = "/etc/ssh/sshd_config.d";
  std::string sshd_config = "/etc/ssh/sshd_config";
  std::string sshd_binary = "/usr/sbin/sshd";
  std::string sshd_pidfile;  // empty: systemctl under systemd, else /run/sshd.pid
  bool no_reload = false;
  // What the drop-in runs; only join writes them, but every command accepts
  // them so one set of path flags fits all three (scripts, tests).
  std::string principals_command = "/usr/sbin/gate-principals";
  std::string principals_user = "gate-principals";
  // The recorder (docs/recording.md): where record on and join --record put
  // its files; leave and record off use the paths record.json names.
  std::string recorder_config = "/etc/gate/recorder.json";  // recorder.pub beside it
  std::string recorder_key_dir = "/var/lib/gate-rec";
  std::string spool_dir = "/var/spool/gate/sessions";
  std::string run_dir = "/run/gate/sessions";
  std::string recorder_command = "/usr/libexec/gate/gate-record";
  std::string recorder_user = "gate-rec";

  // Adds --data-dir, --ssh-dir, --sshd-config-dir, --sshd-config,
  // --sshd-binary, --sshd-pidfile, --no-reload, --principals-command,
  // --principals-user, --recorder-config, --recorder-key-dir, --spool-dir,
  // --run-dir, --recorder-command and --recorder-user to sub.
  void Define(CLI::App& sub);

  std::string NodeStatePath() const { return data_dir + "/" + kNodeStateFile; }
  std::string CacheDir() const { return data_dir + "/cache"; }
  // Copies of files join replaced, restored by leave.
  std::string BackupDir() const { return data_dir + "/pre-join"; }
  std::string HostKeyPath() const { return ssh_dir + "/ssh_host_ed25519_key.pub"; }
  std::string HostCertPath() const { return ssh_dir + "/ssh_host_ed25519_key-cert.pub"; }
  std::string DropInPath() const;
  // What record on set up (hooks::RecordState), root 0600.
  std::string RecordStatePath() const { return data_dir + "/record.json"; }
  std::string RecorderPubPath() const;  // recorder.pub in recorder_config's directory
  hooks::ReloadMethod Reload() const;
};

// node.json in data_dir; NotFound saying "this node is not joined ... run
// gate-node join" when it is missing, its own error otherwise.
Result<NodeState> ReadJoinedNode(const std::string& data_dir);

// The stale-cache rule node.json records (defaults for what it leaves out).
hooks::StalenessRule NodeStaleness(const NodeState& node);

// PermissionDenied unless this process runs as root: gate-node writes
// /etc/ssh, creates a system user and signals sshd.
Status RequireRoot();

// The man-page sections gate-node's commands share, for --help footers.
extern const char kNodeFilesHelp[];

}  // namespace gate::node

#endif  // GATE_SSHD_HOOKS_NODE_NODE_FLAGS_H_
