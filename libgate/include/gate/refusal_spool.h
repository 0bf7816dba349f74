// Refused node logins, on their way to gate-ca's audit log. gate-principals
// (the unprivileged AuthorizedPrincipalsCommand user) appends one line per
// refusal to a small spool beside the policy cache, never touching the
// network on the login path; gate-node sync (root) ships the lines to
// gate-ca (POST /v1/nodes/refusals), where `gatectl audit --failed` shows
// them with the node's name. docs/node-protocol.md, "Refused logins".
#ifndef GATE_REFUSAL_SPOOL_H_
#define GATE_REFUSAL_SPOOL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gate/status.h"

namespace gate::node {

// The spool stops taking lines at this size until gate-node ships it: a
// flood of refused logins must not fill the node's disk.
inline constexpr std::size_t kMaxRefusalSpool = 1 << 20;
// Longest reason kept (the rest is cut): the audit line stays readable.
inline constexpr std::size_t kMaxRefusalReason = 160;
inline constexpr std::string_view kRefusalSpoolFile = "spool";
inline constexpr std::string_view kRefusalSendingFile = "spool.sending";

struct Refusal {
  std::int64_t time = 0;
  std::string user;  // the certificate's key id; "" when it did not parse
  std::string login;
  std::string reason;
  std::uint64_t serial = 0;
};

// The spool directory for the cache in cache_dir: "refusals" beside it
// (/var/lib/gate-node/cache -> /var/lib/gate-node/refusals), owned by the
// principals user, 0700.
std::string RefusalSpoolDir(std::string_view cache_dir);

// One JSON line (with '\n'); control characters in the fields are escaped
// by the JSON writer, the reason is cut to kMaxRefusalReason.
std::string RefusalLine(const Refusal& refusal);

// Appends RefusalLine to dir/spool (created 0600; never through a symlink)
// in one write. Unavailable if the spool holds kMaxRefusalSpool bytes
// already or cannot be written; NotFound if dir does not exist;
// FailedPrecondition if dir is not a directory owned by this euid.
Status AppendRefusal(const std::string& dir, const Refusal& refusal);

// The refusals in spool text, in order. Lines that do not parse are
// skipped and counted in *malformed.
std::vector<Refusal> ParseRefusals(std::string_view text, std::size_t* malformed);

}  // namespace gate::node

#endif  // GATE_REFUSAL_SPOOL_H_
