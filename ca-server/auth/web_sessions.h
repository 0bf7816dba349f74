// Browser sessions (docs/security.md, "Browser sessions"): what a web login
// creates, what the session cookie is checked against on every request, and
// what logout ends.
//
// A session id is 256 random bits (base64url, no padding: 43 characters),
// handed to the browser once as the cookie's value and stored only as its
// SHA-256. Its CSRF token is derived from the id (SHA-256 over a
// domain-separated prefix and the id, base64url): unguessable without the
// cookie, which the page cannot read (HttpOnly), and recomputable on every
// GET /v1/web/session, so the server never keeps the token itself either
// (only its SHA-256).
//
// A session ends at whichever comes first: its absolute expiry (created_at +
// ttl), idle_timeout without a request, logout, a lock in force on its user,
// the user's deletion or credential reset, or eviction as the oldest of more
// than max_per_user. last_seen_at is written at most once per
// refresh_interval, so a stream of GETs costs reads, not a synced write each;
// a session may thus end up to refresh_interval before idle_timeout.
//
// Thread safety: all methods may be called concurrently.
#ifndef GATE_CA_AUTH_WEB_SESSIONS_H_
#define GATE_CA_AUTH_WEB_SESSIONS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "ca-server/audit/audit.h"
#include "ca-server/store/store.h"
#include "gate/secret.h"
#include "gate/status.h"

namespace gate::ca {

inline constexpr std::size_t kWebSessionIdChars = 43;  // 32 bytes, base64url unpadded

// The one message every refused session gets (the API sends it with 401).
inline constexpr std::string_view kNotLoggedIn = "not logged in";

struct WebSessionOptions {
  std::chrono::seconds idle_timeout{30 * 60};
  std::chrono::seconds ttl{12 * 3600};
  std::chrono::seconds refresh_interval{60};
  std::size_t max_per_user = 16;
};

// A new session: the secrets exist here once, for the reply that sets the
// cookie; the store has only their hashes.
struct NewWebSession {
  SecretString id;
  SecretString csrf_token;
  WebSessionRecord record;
};

struct ActiveWebSession {
  WebSessionRecord record;
  UserRecord user;
  SecretString csrf_token;  // recomputed from the id
};

class WebSessions {
 public:
  // store and audit must outlive the object. now: unix seconds.
  WebSessions(WebSessionOptions options, Store& store, AuditLog& audit,
              std::function<std::int64_t()> now);

  // A session for user (who must exist: NotFound), created from source. In
  // one transaction: prunes every stale session, stores the new one, and
  // evicts the user's oldest beyond max_per_user. Internal if the RNG fails.
  Result<NewWebSession> Create(const std::string& user, const std::string& source);

  // The session whose id is session_id, if it is still good: shape,
  // existence, absolute expiry, idle timeout, its user exists and is signed
  // up, no lock in force on the user (policy::ActiveLock, through
  // auth/locks.h). A session found stale or locked is deleted (a lock is
  // audited as "user.web_session"). Every refusal is
  // Unauthenticated(kNotLoggedIn); store failures are returned as they are.
  // Refreshes last_seen_at when refresh_interval has passed since it was
  // last written.
  Result<ActiveWebSession> Validate(std::string_view session_id);

  // For a connection a session opened that outlives its request (a browser
  // terminal): the checks of Validate (expiry, idle timeout, user, lock;
  // a session found stale or locked is deleted), by the id's hash
  // (WebSessionRecord::id_hash), so the connection need not keep the id.
  // last_seen_at is refreshed (as Validate does) only when active, so a
  // busy terminal keeps its session from idling out and an idle one does
  // not. The result's csrf_token is empty. Errors as Validate.
  Result<ActiveWebSession> Recheck(const std::string& id_hash, bool active);

  // True iff csrf_token is session's token (constant time).
  static bool CsrfMatches(const WebSessionRecord& session, std::string_view csrf_token);

  // Deletes the session (logout); OK if it did not exist.
  Status End(std::string_view session_id);

  // Deletes every expired or idle session; how many went.
  Result<int> Prune();

  const WebSessionOptions& options() const { return options_; }

  // The stored form of an id or CSRF token: lower-case hex SHA-256.
  static std::string HashSecret(std::string_view secret);

 private:
  Status Refused(const std::string& id_hash, bool delete_row);

  const WebSessionOptions options_;
  Store& store_;
  AuditLog& audit_;
  const std::function<std::int64_t()> now_;
};

}  // namespace gate::ca

#endif  // GATE_CA_AUTH_WEB_SESSIONS_H_
