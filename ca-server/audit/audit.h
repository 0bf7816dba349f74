// The audit trail: every security-relevant decision gate-ca makes is appended
// to the store's audit log and mirrored as a log line. Never pass secrets.
#ifndef GATE_CA_AUDIT_AUDIT_H_
#define GATE_CA_AUDIT_AUDIT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ca-server/audit/refusal_counter.h"
#include "ca-server/store/audit_store.h"

namespace gate::ca {

class AuditLog {
 public:
  explicit AuditLog(AuditStore& store) : store_(store) {}

  // Records the event (time filled in if zero). A failure to store the event
  // is logged as an error; it does not undo the action being audited, which
  // has already happened.
  void Record(AuditEvent event);

  // A request from source refused by a rate limiter (what: "POST
  // /v1/login", no secrets). Audited as "rate_limit" events aggregated per
  // source and minute (refusal_counter.h), not one row per request.
  void RecordRefusal(const std::string& source, const std::string& what, std::int64_t now);

  // Writes the counts of every refusal window still open, dated now (at
  // shutdown, so no count is lost).
  void FlushRefusals(std::int64_t now);

  // Thread safety: all methods may be called concurrently.

 private:
  void RecordRows(const std::vector<RefusalCounter::Row>& rows, std::int64_t now);

  AuditStore& store_;
  RefusalCounter refusals_;
};

}  // namespace gate::ca

#endif  // GATE_CA_AUDIT_AUDIT_H_
