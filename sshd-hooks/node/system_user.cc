#include "sshd-hooks/node/system_user.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <vector>

#include "sshd-hooks/node/process.h"

namespace gate::node {
namespace {

std::string FindTool(const char* name) {
  for (const char* dir : {"/usr/sbin/", "/sbin/"}) {
    std::string path = std::string(dir) + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

// Runs tool (found in /usr/sbin or /sbin) with args; FailedPrecondition
// with its output when it exits non-zero.
Status RunAdminTool(const char* tool, std::vector<std::string> args, const std::string& what) {
  const std::string path = FindTool(tool);
  if (path.empty()) return Unavailable(std::string(tool) + " not found; " + what + " by hand");
  args.insert(args.begin(), path);
  auto r = hooks::RunProcess(args);
  if (!r) return r.error();
  if (r->exit_code != 0) {
    return FailedPrecondition(std::string(tool) + " failed (" + what + "): " + r->output);
  }
  return Status::Ok();
}

}  // namespace

bool SystemUserExists(const std::string& name) { return ::getpwnam(name.c_str()) != nullptr; }

Result<bool> EnsureSystemUser(const std::string& name) {
  if (SystemUserExists(name)) return false;
  GATE_RETURN_IF_ERROR(RunAdminTool(
      "useradd", {"--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name},
      "create " + name + " as a system user, or pass --principals-user"));
  return true;
}

Status RemoveSystemUser(const std::string& name) {
  if (!SystemUserExists(name)) return Status::Ok();
  return RunAdminTool("userdel", {name}, "remove user " + name);
}

Result<bool> EnsureSystemGroup(const std::string& name) {
  if (::getgrnam(name.c_str()) != nullptr) return false;
  GATE_RETURN_IF_ERROR(RunAdminTool("groupadd", {"--system", name}, "create group " + name));
  return true;
}

Result<bool> EnsureGroupMember(const std::string& user, const std::string& group) {
  const struct group* g = ::getgrnam(group.c_str());
  if (g == nullptr) return Err(NotFound("group " + group + " does not exist"));
  const gid_t gid = g->gr_gid;
  const struct passwd* pw = ::getpwnam(user.c_str());
  if (pw == nullptr) return Err(NotFound("user " + user + " does not exist"));
  std::vector<gid_t> groups(64);
  int count = static_cast<int>(groups.size());
  while (::getgrouplist(user.c_str(), pw->pw_gid, groups.data(), &count) < 0) {
    groups.resize(static_cast<std::size_t>(count) + 64);
    count = static_cast<int>(groups.size());
  }
  for (int i = 0; i < count; ++i) {
    if (groups[static_cast<std::size_t>(i)] == gid) return false;
  }
  GATE_RETURN_IF_ERROR(
      RunAdminTool("usermod", {"-a", "-G", group, user}, "add " + user + " to group " + group));
  return true;
}

Status RemoveSystemGroup(const std::string& name) {
  if (::getgrnam(name.c_str()) == nullptr) return Status::Ok();
  return RunAdminTool("groupdel", {name}, "remove group " + name);
}

}  // namespace gate::node
