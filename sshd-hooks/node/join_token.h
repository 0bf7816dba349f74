// Where gate-node join gets its single-use token. Never from argv: every
// local user can read /proc/PID/cmdline while the join runs, and a token
// read there can be spent first to register a rogue node.
#ifndef GATE_SSHD_HOOKS_NODE_JOIN_TOKEN_H_
#define GATE_SSHD_HOOKS_NODE_JOIN_TOKEN_H_

#include <string>

#include "gate/secret.h"
#include "gate/status.h"

namespace gate::node {

// The environment variable a script may hand the token in.
inline constexpr char kJoinTokenEnv[] = "GATE_NODE_TOKEN";

// The token, from the first of:
//  - token_file: "-" is standard input (one line); otherwise a file owned by
//    this euid (root) and not readable by group or others (chmod 600);
//  - $GATE_NODE_TOKEN, which is then removed from the environment so that
//    sshd -t, systemctl and every other child never inherit it;
//  - a prompt on the terminal (echo off), or one line of standard input
//    when it is not a terminal.
// Surrounding blanks and the newline are dropped. InvalidArgument for
// anything that cannot be a join token (empty, over 256 bytes, or not
// visible ASCII); the file's own errors (NotFound, PermissionDenied naming
// the fix); Unavailable at end of input.
Result<SecretString> ReadJoinToken(const std::string& token_file);

}  // namespace gate::node

#endif  // GATE_SSHD_HOOKS_NODE_JOIN_TOKEN_H_
