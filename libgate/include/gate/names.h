// What gate accepts as a user name and as an OS login. Both end up in
// certificates, in sshd's view of the world and in log lines, so both are
// restricted to characters that need no quoting anywhere.
#ifndef GATE_NAMES_H_
#define GATE_NAMES_H_

#include <string>
#include <string_view>
#include <vector>

#include "gate/status.h"

namespace gate {

// Gate user names: 1-64 of [A-Za-z0-9._@-], not starting with '-' or '.'.
Status ValidateUserName(std::string_view name);

// OS logins as useradd accepts them by default: 1-32 of [a-z0-9_-] (and '.'),
// starting with a letter or '_'.
Status ValidateLogin(std::string_view login);

// Splits "a,b,c" (spaces around items ignored; empty items refused), validates
// each as a login and removes duplicates keeping the first order.
Result<std::vector<std::string>> ParseLoginList(std::string_view list);

}  // namespace gate

#endif  // GATE_NAMES_H_
