#include "sshd-hooks/node/join_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gate/secure_file.h"
#include "gate/unique_fd.h"
#include "sshd-hooks/node/sshd.h"
#include "sshd-hooks/principals/drop_in.h"

namespace gate::node {
namespace {

std::string BaseName(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Copies path into the backup dir (mode preserved). Returns whether there
// was anything to copy.
Result<bool> BackUp(const NodePaths& paths, const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return false;
    return Err(Unavailable("cannot stat " + path + ": " + std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return Err(FailedPrecondition(path + " exists and is not a regular file; move it away"));
  }
  auto content = ReadFile(path);
  if (!content) return Err(content.error());
  GATE_RETURN_IF_ERROR(EnsurePrivateDir(paths.BackupDir(), 0700));
  GATE_RETURN_IF_ERROR(
      WriteFileAtomic(paths.BackupDir() + "/" + BaseName(path), *content, st.st_mode & 0777));
  return true;
}

}  // namespace

Status EnsureDataDir(const std::string& dir) {
  GATE_RETURN_IF_ERROR(EnsurePrivateDir(dir, 0755));
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid() || ::fchmod(fd.get(), 0755) != 0) {
    return Unavailable("cannot chmod 755 " + dir + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Status BackUpPreJoinFiles(const NodePaths& paths, NodeState& state) {
  auto cert = BackUp(paths, paths.HostCertPath());
  if (!cert) return cert.error();
  state.host_cert_backed_up = *cert;

  auto drop_in = ReadIfExists(paths.DropInPath());
  if (!drop_in) return drop_in.error();
  // A drop-in we wrote ourselves (node.json lost since) is not the admin's.
  if (*drop_in && !(*drop_in)->starts_with(hooks::kDropInHeader)) {
    auto saved = BackUp(paths, paths.DropInPath());
    if (!saved) return saved.error();
    state.drop_in_backed_up = *saved;
  }
  return Status::Ok();
}

Result<std::optional<std::string>> ReadIfExists(const std::string& path) {
  auto content = ReadFile(path);
  if (content) return std::optional<std::string>(std::move(*content));
  if (content.error().code() == Code::kNotFound) return std::optional<std::string>();
  return Err(content.error());
}

Status PutBack(const std::string& path, const std::optional<std::string>& saved) {
  if (saved) return WriteFileAtomic(path, *saved, 0644);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Unavailable("cannot remove " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Result<bool> InstallDropIn(const NodePaths& paths, const std::string& text,
                           const std::function<Status()>& verify) {
  const std::string path = paths.DropInPath();
  auto previous = ReadIfExists(path);
  if (!previous) return Err(previous.error());
  const bool changed = !*previous || **previous != text;
  if (changed) GATE_RETURN_IF_ERROR(WriteFileAtomic(path, text, 0644));

  Status check = hooks::TestSshdConfig(paths.sshd_binary, paths.sshd_config);
  if (check.ok() && verify) check = verify();
  if (!check.ok()) {
    if (!changed) return Err(check);
    Status undo = PutBack(path, *previous);
    std::string what =
        *previous ? "the previous " + path + " was restored" : path + " was removed again";
    if (!undo.ok()) what = "restoring the previous drop-in failed too: " + undo.message();
    return Err(Status(check.code(), check.message() + "\n(" + what + ")"));
  }
  return changed;
}

Result<std::optional<Backup>> ReadBackup(const NodePaths& paths, const std::string& name) {
  const std::string path = paths.BackupDir() + "/" + name;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::optional<Backup>();
    return Err(Unavailable("cannot stat " + path + ": " + std::strerror(errno)));
  }
  auto content = ReadFile(path);
  if (!content) return Err(content.error());
  return std::optional<Backup>(Backup{std::move(*content), st.st_mode & 0777});
}

}  // namespace gate::node
