// sshd runs AuthorizedPrincipalsCommand only if the program passes its
// safe_path() test (OpenSSH misc.c): after resolving symlinks, the file and
// every directory up to '/' are owned by root and not writable by group or
// others. Otherwise sshd logs "Unsafe AuthorizedPrincipalsCommand" at auth
// time and every gate login on the node fails. gate-node checks the same
// rule up front, so the admin gets the reason at join time instead.
#ifndef GATE_SSHD_HOOKS_NODE_SAFE_PATH_H_
#define GATE_SSHD_HOOKS_NODE_SAFE_PATH_H_

#include <string>

#include "gate/status.h"

namespace gate::hooks {

// OK if sshd would run `path` as AuthorizedPrincipalsCommand for a non-root
// AuthorizedPrincipalsCommandUser: an absolute path whose real path is a
// regular file owned by root, not group/other-writable, executable by others,
// in directories that are all root-owned, not group/other-writable and
// searchable by others. PermissionDenied naming the offending component and
// the fix otherwise (NotFound if the file does not exist): CheckSafePath's
// rule and messages (gate/secure_file.h).
Status CheckSshdSafeExecutable(const std::string& path);

}  // namespace gate::hooks

#endif  // GATE_SSHD_HOOKS_NODE_SAFE_PATH_H_
