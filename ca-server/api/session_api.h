// Recorded sessions over HTTPS (docs/api.md, "Recorded sessions"):
//
//   node side, with the node's bearer credential (docs/recording.md):
//     PUT  /v1/nodes/sessions/{id}?offset=N     a chunk (octet-stream)
//     POST /v1/nodes/sessions/{id}/complete     {"size", "sha256"}
//     PUT  /v1/nodes/recorder-key               {"public_key"}
//   user side, signed with the user's Gate certificate (request_signing.h),
//   or with a browser session cookie (browser_auth.h):
//     GET  /v1/sessions[?live=&user=&node=&since=&limit=]
//     GET  /v1/sessions/{id}
//     GET  /v1/sessions/{id}/recording[?offset=&limit=]
#ifndef GATE_CA_API_SESSION_API_H_
#define GATE_CA_API_SESSION_API_H_

#include <cstddef>
#include <string_view>

#include "ca-server/api/browser_auth.h"
#include "ca-server/api/router.h"
#include "ca-server/api/services.h"
#include "ca-server/auth/request_auth.h"
#include "ca-server/sessions/recording_files.h"
#include "ca-server/sessions/session_ingest.h"

namespace gate::ca {

// The largest chunk body (HttpServerOptions::large_body_bytes).
inline constexpr std::size_t kMaxChunkBytes = 1 << 20;
// The most of a recording one GET returns; clients page with offset.
inline constexpr std::size_t kMaxRecordingRead = 16 << 20;

struct SessionApiDeps {
  Services& services;
  SessionIngest& ingest;
  RequestAuthenticator& users;
  RecordingFiles& files;
  // Browser sessions; null: user routes take signed requests only.
  BrowserAuth* browser = nullptr;
};

// Registers the routes on router. deps (and what it refers to) must outlive
// the router.
void RegisterSessionApi(Router& router, SessionApiDeps& deps);

// The request's signer, from its Gate certificate signature headers
// (request_signing.h): the user-side routes' authentication.
Result<SignedUser> AuthenticateSignedUser(RequestAuthenticator& users, const HttpRequest& req);

// Who made a user request.
struct RequestUser {
  UserRecord user;
  bool browser = false;  // by session cookie, not by signature
};

// The one authentication of every user route: a request that carries the
// browser session cookie and no Authorization header is a browser's and is
// judged by browser->Authenticate (cookie, Origin, CSRF; browser_auth.h);
// every other request by its signature (AuthenticateSignedUser). Without
// browser, signatures only.
Result<RequestUser> AuthenticateUserRequest(RequestAuthenticator& users, BrowserAuth* browser,
                                            const HttpRequest& req);

// GET /v1/nodes (user_nodes_api.cc): the nodes the signer may log into,
// with labels, logins and host principals (docs/api.md, "Nodes for users").
void RegisterUserNodesApi(Router& router, SessionApiDeps& deps);

// The admin side (admin_sessions_api.cc), on the admin router: retention,
// POST /admin/v1/sessions/prune.
void RegisterAdminSessionsApi(Router& admin_router, SessionApiDeps& deps);

// HttpServerOptions::large_body: true only for a chunk upload (PUT
// /v1/nodes/sessions/{id}) whose credentials are a joined node's, so nobody
// else can make gate-ca buffer more than the ordinary body limit. Costs one
// indexed read of the store, before the body is read.
bool IsChunkUpload(Store& store, std::string_view method, std::string_view path,
                   std::string_view authorization);

}  // namespace gate::ca

#endif  // GATE_CA_API_SESSION_API_H_
