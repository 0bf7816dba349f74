#include "sshd-hooks/node/system_user.h"

#include <pwd.h>
#include <unistd.h>

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

}  // namespace

bool SystemUserExists(const std::string& name) { return ::getpwnam(name.c_str()) != nullptr; }

Result<bool> EnsureSystemUser(const std::string& name) {
  if (SystemUserExists(name)) return false;
  const std::string useradd = FindTool("useradd");
  if (useradd.empty()) {
    return Err(Unavailable("user " + name +
                           " does not exist and useradd was not found; create "
                           "it as a system user (or pass --principals-user)"));
  }
  auto r = hooks::RunProcess(
      {useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name});
  if (!r) return Err(r.error());
  if (r->exit_code != 0) {
    return Err(FailedPrecondition("useradd " + name + " failed: " + r->output));
  }
  return true;
}

Status RemoveSystemUser(const std::string& name) {
  if (!SystemUserExists(name)) return Status::Ok();
  const std::string userdel = FindTool("userdel");
  if (userdel.empty()) return Unavailable("userdel not found; remove user " + name + " by hand");
  auto r = hooks::RunProcess({userdel, name});
  if (!r) return r.error();
  if (r->exit_code != 0) return FailedPrecondition("userdel " + name + " failed: " + r->output);
  return Status::Ok();
}

}  // namespace gate::node
