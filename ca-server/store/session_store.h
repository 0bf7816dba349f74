// SessionStore: the index of recorded sessions. One of the aggregates
// Store (store.h) composes.
#ifndef GATE_CA_STORE_SESSION_STORE_H_
#define GATE_CA_STORE_SESSION_STORE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gate/status.h"

namespace gate::ca {

// A recorded session in gate-ca's index (docs/recording.md, "Central
// collection"). The recording itself is a file beside the database; the
// index holds what listing and access decisions need.
struct SessionRecord {
  std::string id;         // session UUID (canonical lower case)
  std::string user;       // Gate user (the certificate's key id)
  std::string login;      // OS account
  std::string host_uuid;  // the node that recorded it (no foreign key: sessions outlive nodes)
  std::string node_name;  // the node's hostname when the session arrived
  std::string mode;       // "interactive", "exec" or "exec-pty"
  std::int64_t started_at = 0;  // unix seconds, from the recording's header
  std::int64_t ended_at = 0;    // unix seconds; 0 while live
  bool live = true;             // until the node completes the upload
  std::int64_t size = 0;        // bytes gate-ca holds
  std::int64_t created_at = 0;  // first chunk received
  // Set when completed.
  std::int64_t completed_at = 0;
  std::string sha256;         // lower-case hex of the whole file
  bool verified = false;      // every byte covered by a good signed checkpoint
  std::string verify_detail;  // "complete", or why not verified; never a secret
  std::string exit;           // the "x" event's data (JSON text), or empty
};

// Which sessions ListSessions returns. Empty strings and nullopt filter
// nothing.
struct SessionFilter {
  std::optional<bool> live;
  std::string user;          // exact Gate user
  std::string node;          // exact host UUID or node name
  std::int64_t since = 0;    // started_at >= since, or still live
  std::size_t limit = 1000;  // newest first
  // Keyset paging: only sessions after this one in the list's order (older,
  // or as old with a smaller id). The last session of a page is the cursor
  // of the next.
  struct Cursor {
    std::int64_t started_at = 0;
    std::string id;
  };
  std::optional<Cursor> before;
  // Access: when set, only sessions of `owner` or on one of `nodes` (host
  // UUIDs) are returned.
  struct Visibility {
    std::string owner;
    std::vector<std::string> nodes;
  };
  std::optional<Visibility> visible_to;
};

class SessionStore {
 public:
  virtual ~SessionStore() = default;

  // CreateSession: AlreadyExists if the id is taken.
  virtual Status CreateSession(const SessionRecord& session) = 0;
  virtual Result<SessionRecord> GetSession(const std::string& id) = 0;  // NotFound
  // Sets the size gate-ca holds (chunks, truncation). NotFound.
  virtual Status SetSessionSize(const std::string& id, std::int64_t size) = 0;
  // Stores the completion fields of session (live = 0, ended_at, size,
  // completed_at, sha256, verified, verify_detail, exit) for session.id.
  // NotFound.
  virtual Status CompleteSession(const SessionRecord& session) = 0;
  // Newest first (started_at, then id), at most filter.limit.
  virtual Result<std::vector<SessionRecord>> ListSessions(const SessionFilter& filter) = 0;
  virtual Result<std::int64_t> CountLiveSessions(const std::string& host_uuid) = 0;
  // Completed sessions gate-ca finished receiving before `before`
  // (completed_at, gate-ca's own clock), oldest first, at most limit.
  virtual Result<std::vector<SessionRecord>> ListSessionsCompletedBefore(std::int64_t before,
                                                                         std::size_t limit) = 0;
  // Removes a session's index row (retention). NotFound.
  virtual Status DeleteSession(const std::string& id) = 0;
};

}  // namespace gate::ca

#endif  // GATE_CA_STORE_SESSION_STORE_H_
