// The admin API under /admin/v1/, served only on the root-only Unix socket
// in the data dir (gatectl's transport). Contract of each route: docs/api.md
// and, for roles, locks, node tokens, nodes and revocation,
// docs/node-protocol.md. Every change is audited with source "admin".
#ifndef GATE_CA_API_ADMIN_API_H_
#define GATE_CA_API_ADMIN_API_H_

#include "ca-server/api/router.h"
#include "ca-server/api/services.h"

namespace gate::ca {

// Registers every admin route (the ones below included). services must
// outlive the router.
void RegisterAdminApi(Router& router, Services& services);

// The parts, one file each: roles (admin_roles_api.cc); node tokens, nodes
// and certificate revocation (admin_nodes_api.cc); reading the audit log
// (admin_audit_api.cc); single sign-on connectors (admin_connectors_api.cc).
void RegisterAdminRolesApi(Router& router, Services& services);
void RegisterAdminConnectorsApi(Router& router, Services& services);
void RegisterAdminNodesApi(Router& router, Services& services);
void RegisterAdminAuditApi(Router& router, Services& services);

}  // namespace gate::ca

#endif  // GATE_CA_API_ADMIN_API_H_
