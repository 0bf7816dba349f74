// The node API under /v1/nodes/, on gate-ca's public HTTPS port: join,
// policy sync, host certificate renewal, OTP verification for pam_gate.so,
// leave. Contract: docs/node-protocol.md. After the join every request
// carries the node's bearer credential (auth/node_auth.h).
#ifndef GATE_CA_API_NODE_API_H_
#define GATE_CA_API_NODE_API_H_

#include <json/json.h>

#include <cstdint>
#include <string>

#include "ca-server/api/router.h"
#include "ca-server/api/services.h"
#include "ca-server/nodes/node_enrollment.h"
#include "ca-server/store/store.h"
#include "gate/policy.h"
#include "gate/status.h"

namespace gate::ca {

// Registers the routes on router. services must outlive the router.
void RegisterNodeApi(Router& router, Services& services);

// Labels a node carries, as a JSON object of strings (join requests, node
// join tokens): policy::LabelsFromJson's rules, at most kMaxNodeLabels, and
// no "*" as a key or value (wildcards belong in role selectors, not on
// nodes). InvalidArgument otherwise.
Result<policy::Labels> NodeLabelsFromJson(const Json::Value& json);

// The node enrollment service over services' store, host issuer and audit
// log; a node leaving or removed closes its live uploads through
// services.node_leaving.
NodeEnrollment Enrollment(Services& services);

}  // namespace gate::ca

#endif  // GATE_CA_API_NODE_API_H_
