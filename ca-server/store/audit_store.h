// AuditStore: the append-only audit log. One of the aggregates Store
// (store.h) composes.
#ifndef GATE_CA_STORE_AUDIT_STORE_H_
#define GATE_CA_STORE_AUDIT_STORE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gate/status.h"

namespace gate::ca {

struct AuditEvent {
  std::int64_t time = 0;
  std::string event;  // "user.login", "user.signup", "user.create", ...
  std::string user;
  std::string source;  // peer address or "admin"
  bool success = false;
  std::string detail;  // never a secret
};

// What `gatectl audit` asks for (GET /admin/v1/audit). Empty strings and
// since == 0 select everything.
struct AuditQuery {
  std::size_t limit = 50;    // the newest `limit` events that match
  std::string user;          // exactly this user
  std::string event_prefix;  // "user.login", or "session." for a family
  std::int64_t since = 0;    // time >= since (Unix seconds)
  std::optional<bool> success;
};

class AuditStore {
 public:
  virtual ~AuditStore() = default;

  virtual Status AppendAudit(const AuditEvent& event) = 0;
  // The events query selects, newest first (by order of appending).
  virtual Result<std::vector<AuditEvent>> ListAudit(const AuditQuery& query) = 0;
  Result<std::vector<AuditEvent>> ListAudit(std::size_t limit) {
    AuditQuery query;
    query.limit = limit;
    return ListAudit(query);
  }
};

}  // namespace gate::ca

#endif  // GATE_CA_STORE_AUDIT_STORE_H_
