// The public HTTPS API under /v1/, reached by gate
// clients over TCP. Contract of each route: docs/api.md.
#ifndef GATE_CA_API_PUBLIC_API_H_
#define GATE_CA_API_PUBLIC_API_H_

#include "ca-server/api/router.h"
#include "ca-server/api/services.h"

namespace gate::ca {

// Registers the routes on router. services must outlive the router.
void RegisterPublicApi(Router& router, Services& services);

// The per-source rate limit on the routes an attacker hammers (signup,
// login, node join): ResourceExhausted, audited, once the source's bucket
// in services.auth_limiter is empty.
Status CheckAuthRate(Services& services, const HttpRequest& req);

}  // namespace gate::ca

#endif  // GATE_CA_API_PUBLIC_API_H_
