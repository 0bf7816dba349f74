// gate-node's half of the refusal spool (gate/refusal_spool.h): making the
// spool directory for the principals user, and shipping what
// gate-principals queued to gate-ca.
#ifndef GATE_SSHD_HOOKS_NODE_REFUSAL_SHIPPER_H_
#define GATE_SSHD_HOOKS_NODE_REFUSAL_SHIPPER_H_

#include <cstddef>
#include <string>

#include "gate/http_client.h"
#include "gate/status.h"

namespace gate::node {

// Creates dir (0700) if missing and makes it owned by user, which must
// exist. A symlink or non-directory in its place is an error.
Status EnsureRefusalSpool(const std::string& dir, const std::string& user);

struct ShippedRefusals {
  std::size_t sent = 0;
  std::size_t malformed = 0;  // lines dropped because they did not parse
};

// Moves dir/spool aside (spool.sending, so gate-principals starts a fresh
// file), sends its refusals to POST /v1/nodes/refusals in batches that fit
// gate-ca's body limit, and deletes it once all are accepted. A
// spool.sending left by a failed run is sent first. The files belong to an
// unprivileged user, so they are read through ReadSecureFile: a regular
// file owned by dir's owner, 0600, never a symlink; anything else is
// deleted unread. Nothing to send without dir. On an error the unsent
// file stays for the next run.
Result<ShippedRefusals> ShipRefusals(const std::string& dir, const HttpClient& client);

}  // namespace gate::node

#endif  // GATE_SSHD_HOOKS_NODE_REFUSAL_SHIPPER_H_
