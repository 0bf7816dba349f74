#include "sshd-hooks/node/safe_path.h"

#include "gate/secure_file.h"

namespace gate::hooks {

Status CheckSshdSafeExecutable(const std::string& path) {
  if (path.empty() || path.front() != '/') {
    return InvalidArgument("--principals-command must be an absolute path, not '" + path + "'");
  }
  // OpenSSH's safe_path(): it resolves the path, then checks the program and
  // every directory above it; AuthorizedPrincipalsCommandUser must also be
  // able to reach and run it.
  SafePathOptions options;
  options.links = SafePathOptions::Links::kResolve;
  options.required_bits = 0001;
  options.dir_required_bits = 0001;
  options.subject = "AuthorizedPrincipalsCommand";
  options.consequence =
      "sshd refuses to run a program unless it and every directory above it are owned by root "
      "and not writable by group or others, and every gate login on this node would fail; "
      "install it as /usr/sbin/gate-principals or fix the permissions";
  return CheckSafePath(path, 0, options);
}

}  // namespace gate::hooks
