// The unprivileged account sshd runs gate-principals as
// (AuthorizedPrincipalsCommandUser), and the group that may read the
// node's policy cache (gate-cache), which that account is a member of.
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

// Creates group name with `groupadd --system` unless it exists. Returns
// whether it created it.
Result<bool> EnsureSystemGroup(const std::string& name);

// Adds user to group (`usermod -a -G group user`) unless it already is a
// member (primary or supplementary). Returns whether it added it.
Result<bool> EnsureGroupMember(const std::string& user, const std::string& group);

// `groupdel name`; OK if the group does not exist.
Status RemoveSystemGroup(const std::string& name);

}  // namespace gate::node

#endif  // GATE_SSHD_HOOKS_NODE_SYSTEM_USER_H_
