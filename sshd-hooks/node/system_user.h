// The unprivileged account sshd runs gate-principals as
// (AuthorizedPrincipalsCommandUser).
#ifndef GATE_SSHD_HOOKS_NODE_SYSTEM_USER_H_
#define GATE_SSHD_HOOKS_NODE_SYSTEM_USER_H_

#include <string>

#include "gate/status.h"

namespace gate::node {

bool SystemUserExists(const std::string& name);

// Creates name with `useradd --system --no-create-home --shell
// /usr/sbin/nologin` unless it exists. Returns whether it created it.
Result<bool> EnsureSystemUser(const std::string& name);

// `userdel name`; OK if the user does not exist.
Status RemoveSystemUser(const std::string& name);

}  // namespace gate::node

#endif  // GATE_SSHD_HOOKS_NODE_SYSTEM_USER_H_
