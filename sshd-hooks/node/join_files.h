// The files join changes outside its own data (the sshd drop-in, the host
// certificate) and how leave puts them back.
#ifndef GATE_SSHD_HOOKS_NODE_JOIN_FILES_H_
#define GATE_SSHD_HOOKS_NODE_JOIN_FILES_H_

#include <functional>
#include <optional>
#include <string>

#include "gate/node_state.h"
#include "gate/status.h"
#include "sshd-hooks/node/node_flags.h"

namespace gate::node {

// Creates the data dir (and parents) if missing; it must be owned by root
// and is set to 0755 so gate-principals, running unprivileged, can reach
// cache/ (node.json inside stays 0600).
Status EnsureDataDir(const std::string& dir);

// Before the first join writes them: copies an existing host certificate,
// and an existing 50-gate.conf that gate did not write, into
// paths.BackupDir() (0700) with their modes, and records that in state.
Status BackUpPreJoinFiles(const NodePaths& paths, NodeState& state);

// Writes the drop-in if its content differs, then checks the whole sshd
// configuration (sshd -t) and runs verify (if given) on it. If sshd rejects
// it or verify fails, the previous drop-in is put back (or the new one
// removed if there was none) and the error carries the reason. Returns
// whether the file changed.
Result<bool> InstallDropIn(const NodePaths& paths, const std::string& text,
                           const std::function<Status()>& verify = {});

// A file's content, or nullopt if it does not exist; other errors fail.
Result<std::optional<std::string>> ReadIfExists(const std::string& path);

// Puts `saved` back at path (0644), or removes path when saved is nullopt.
Status PutBack(const std::string& path, const std::optional<std::string>& saved);

// The pre-join copy of path's file name in the backup dir, if any, with
// its mode.
struct Backup {
  std::string content;
  mode_t mode = 0644;
};
Result<std::optional<Backup>> ReadBackup(const NodePaths& paths, const std::string& name);

}  // namespace gate::node

#endif  // GATE_SSHD_HOOKS_NODE_JOIN_FILES_H_
