// WebSessionStore: browser sessions (docs/security.md, "Browser sessions").
// Stored by hash only: a copy of the database hands out no cookie and no
// CSRF token. One of the aggregates Store (store.h) composes; store.h states
// the contract all of them share (atomicity, thread safety). What makes a
// session valid (timeouts, locks, the per-user cap) is decided in auth/
// (WebSessions, auth/web_sessions.h), not here.
#ifndef GATE_CA_STORE_WEB_SESSION_STORE_H_
#define GATE_CA_STORE_WEB_SESSION_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "gate/status.h"

namespace gate::ca {

struct WebSessionRecord {
  std::string id_hash;            // hex SHA-256 of the session id (the cookie's value)
  std::string user;               // the user it is bound to; goes when the user goes
  std::string csrf_hash;          // hex SHA-256 of the session's CSRF token
  std::int64_t created_at = 0;    // unix seconds
  std::int64_t last_seen_at = 0;  // unix seconds; refreshed at a bounded rate
  std::int64_t expires_at = 0;    // absolute end, unix seconds
  std::string source;             // peer address it was created from
};

class WebSessionStore {
 public:
  virtual ~WebSessionStore() = default;

  // InvalidArgument for an empty id_hash or csrf_hash; AlreadyExists if
  // id_hash is taken; NotFound if the user does not exist.
  virtual Status CreateWebSession(const WebSessionRecord& session) = 0;
  virtual Result<WebSessionRecord> GetWebSession(const std::string& id_hash) = 0;  // NotFound
  // The user's sessions, oldest first (created_at, then id_hash).
  virtual Result<std::vector<WebSessionRecord>> ListUserWebSessions(const std::string& user) = 0;
  // Sets last_seen_at. NotFound if there is no such session.
  virtual Status TouchWebSession(const std::string& id_hash, std::int64_t last_seen_at) = 0;
  // OK whether or not the session existed (logging out twice is no error).
  virtual Status DeleteWebSession(const std::string& id_hash) = 0;
  // Every session of user; OK if there is none.
  virtual Status DeleteUserWebSessions(const std::string& user) = 0;
  // Deletes every session with expires_at <= expired_by or last_seen_at <=
  // idle_since; returns how many went.
  virtual Result<int> DeleteStaleWebSessions(std::int64_t expired_by, std::int64_t idle_since) = 0;
};

}  // namespace gate::ca

#endif  // GATE_CA_STORE_WEB_SESSION_STORE_H_
