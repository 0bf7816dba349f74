// The admin API under /admin/v1/, served only on the root-only Unix socket
// in the data dir (gatectl's transport). Contract of each route: docs/api.md.
#ifndef GATE_CA_API_ADMIN_API_H_
#define GATE_CA_API_ADMIN_API_H_

#include "ca-server/api/router.h"
#include "ca-server/api/services.h"

namespace gate::ca {

void RegisterAdminApi(Router& router, Services& services);

}  // namespace gate::ca

#endif  // GATE_CA_API_ADMIN_API_H_
