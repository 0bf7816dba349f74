#include "sshd-hooks/node/node_flags.h"

#include <unistd.h>

#include "gate/recorder_settings.h"
#include "sshd-hooks/principals/drop_in.h"

namespace gate::node {

void NodePaths::Define(CLI::App& sub) {
  // A path given twice takes the last value, so a wrapper script's defaults
  // can be overridden by appending flags.
  auto last = [](CLI::Option* option) {
    option->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  };
  last(sub.add_option("--data-dir", data_dir,
                      "Node state: node.json, cache/ (default /var/lib/gate-node)"));
  last(sub.add_option("--ssh-dir", ssh_dir,
                      "Where ssh_host_ed25519_key.pub is read and ssh_host_ed25519_key-cert.pub "
                      "written (default /etc/ssh)"));
  last(sub.add_option("--sshd-config-dir", sshd_config_dir,
                      "Directory sshd_config Includes; 50-gate.conf goes here "
                      "(default /etc/ssh/sshd_config.d)"));
  last(sub.add_option(
      "--sshd-config", sshd_config,
      "Main sshd configuration, checked with sshd -t -f (default /etc/ssh/sshd_config)"));
  last(sub.add_option("--sshd-binary", sshd_binary,
                      "The sshd to check with (default /usr/sbin/sshd)"));
  last(sub.add_option(
      "--sshd-pidfile", sshd_pidfile,
      "Reload sshd with SIGHUP to the pid in this file (default: systemctl reload ssh "
      "when systemd runs, else /run/sshd.pid)"));
  sub.add_flag("--no-reload", no_reload, "Never reload sshd (the caller will)");
  last(sub.add_option(
      "--principals-command", principals_command,
      "join: the gate-principals binary the drop-in runs (default "
      "/usr/sbin/gate-principals); it and every directory above it must be root-owned "
      "and not group/other-writable, or sshd refuses to run it"));
  last(sub.add_option("--principals-user", principals_user,
                      "join: the account sshd runs gate-principals as; created as a system user if "
                      "missing (default gate-principals)"));
  last(sub.add_option("--recorder-config", recorder_config,
                      "record on: the recorder settings file; recorder.pub is written beside it "
                      "(default /etc/gate/recorder.json)"));
  last(sub.add_option("--recorder-key-dir", recorder_key_dir,
                      "record on: the recorder user's directory holding recorder.key "
                      "(default /var/lib/gate-rec)"));
  last(sub.add_option("--spool-dir", spool_dir,
                      "record on: where recordings wait for upload (default "
                      "/var/spool/gate/sessions)"));
  last(sub.add_option("--run-dir", run_dir,
                      "record on: live sessions' registry and join sockets (default "
                      "/run/gate/sessions)"));
  last(sub.add_option("--recorder-command", recorder_command,
                      "record on: the setuid recorder sshd runs (default "
                      "/usr/libexec/gate/gate-record)"));
  last(sub.add_option("--recorder-user", recorder_user,
                      "record on: the system user the recorder is setuid to, created if missing "
                      "(default gate-rec)"));
}

std::string NodePaths::RecorderPubPath() const { return recorder::PublicKeyPath(recorder_config); }

std::string NodePaths::DropInPath() const {
  return sshd_config_dir + "/" + std::string(hooks::kDropInName);
}

hooks::ReloadMethod NodePaths::Reload() const {
  return hooks::ChooseReloadMethod(no_reload, sshd_pidfile);
}

hooks::StalenessRule NodeStaleness(const NodeState& node) {
  hooks::StalenessRule rule;
  rule.mode = node.deny_stale_cache ? hooks::StaleCache::kDeny : hooks::StaleCache::kAllow;
  if (node.max_cache_age_seconds > 0) {
    rule.max_age = std::chrono::seconds(node.max_cache_age_seconds);
  }
  return rule;
}

Status RequireRoot() {
  if (::geteuid() != 0) {
    return PermissionDenied(
        "gate-node must run as root: it writes /etc/ssh and its data dir, creates a system user "
        "and reloads sshd (try: sudo gate-node ...)");
  }
  return Status::Ok();
}

const char kNodeFilesHelp[] =
    "Files (defaults; see the path flags):\n"
    "  /var/lib/gate-node/node.json        root 0600: proxy, TLS pin, host UUID, node secret\n"
    "  /var/lib/gate-node/cache/           root:gate-cache 0750: policy.db, user_ca.pub,\n"
    "                                      revoked.krl, synced-at (0640; only root and the\n"
    "                                      group gate-cache may read them)\n"
    "  /etc/ssh/ssh_host_ed25519_key-cert.pub   the host certificate\n"
    "  /etc/ssh/sshd_config.d/50-gate.conf      the sshd drop-in\n"
    "  /var/lib/gate-node/record.json      root 0600: what gate-node record on set up\n"
    "Exit status: 0 success, 1 failure, 2 usage error, 3 authentication or permission\n"
    "refused, 4 gate-ca unreachable, 5 not found (e.g. not joined).\n"
    "See docs/node-protocol.md.\n";

Result<NodeState> ReadJoinedNode(const std::string& data_dir) {
  const std::string path = data_dir + "/" + kNodeStateFile;
  auto state = ReadNodeState(path);
  if (state || state.error().code() != Code::kNotFound) return state;
  return Err(NotFound("this node is not joined (no " + path + "); run gate-node join"));
}

}  // namespace gate::node
