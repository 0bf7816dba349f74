// The names a node's host certificate is issued for: what clients type
// after `ssh user@`. They end up in a certificate and in sshd's and
// clients' logs, so they are restricted to host-name and address characters.
#ifndef GATE_SSHD_HOOKS_NODE_HOST_PRINCIPALS_H_
#define GATE_SSHD_HOOKS_NODE_HOST_PRINCIPALS_H_

#include <string>
#include <string_view>
#include <vector>

#include "gate/status.h"

namespace gate::hooks {

// gate-ca issues at most this many principals per host certificate.
inline constexpr std::size_t kMaxHostPrincipals = 32;

// OK for 1-253 characters of [A-Za-z0-9.:-] (host names, IPv4 and IPv6
// addresses) not starting with '-', gate-ca's rule for POST /v1/nodes/join
// (docs/node-protocol.md); InvalidArgument otherwise.
Status ValidateHostPrincipal(std::string_view name);

// "a,b, c" -> {"a","b","c"}: items trimmed, each validated, empty items
// refused, duplicates dropped keeping the first.
Result<std::vector<std::string>> ParseHostPrincipals(std::string_view list);

// hostname first, then extra; duplicates dropped. InvalidArgument if any is
// invalid or there are more than kMaxHostPrincipals.
Result<std::vector<std::string>> MergeHostPrincipals(const std::string& hostname,
                                                     const std::vector<std::string>& extra);

// This machine's host name (gethostname).
Result<std::string> LocalHostname();

}  // namespace gate::hooks

#endif  // GATE_SSHD_HOOKS_NODE_HOST_PRINCIPALS_H_
