// The public HTTPS API under /v1/, reached by gate
// clients over TCP. Contract of each route: docs/api.md.
#ifndef GATE_CA_API_PUBLIC_API_H_
#define GATE_CA_API_PUBLIC_API_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "ca-server/api/router.h"
#include "ca-server/api/services.h"

namespace gate::ca {

// Registers the routes on router. services must outlive the router.
void RegisterPublicApi(Router& router, Services& services);

// Issues user's certificate for key (IssueUserCertificate: locks, roles,
// ttl caps) and builds POST /v1/login's reply (docs/api.md); audited as
// user.login either way. For a connector's user the reply also names the
// connector. Errors as IssueUserCertificate.
Result<Json::Value> LoginReply(Services& services, const UserRecord& user,
                               const ssh::Ed25519PublicKey& key, std::chrono::seconds ttl,
                               const std::string& source, std::int64_t now);

// The per-source rate limit on the routes an attacker hammers (signup,
// login, node join): ResourceExhausted, audited, once the source's bucket
// in services.auth_limiter is empty.
Status CheckAuthRate(Services& services, const HttpRequest& req);

}  // namespace gate::ca

#endif  // GATE_CA_API_PUBLIC_API_H_
