// The audit trail: every security-relevant decision gate-ca makes is appended
// to the store's audit log and mirrored as a log line. Never pass secrets.
#ifndef GATE_CA_AUDIT_AUDIT_H_
#define GATE_CA_AUDIT_AUDIT_H_

#include <string>

#include "ca-server/store/audit_store.h"

namespace gate::ca {

class AuditLog {
 public:
  explicit AuditLog(AuditStore& store) : store_(store) {}

  // Records the event (time filled in if zero). A failure to store the event
  // is logged as an error; it does not undo the action being audited, which
  // has already happened.
  void Record(AuditEvent event);

 private:
  AuditStore& store_;
};

}  // namespace gate::ca

#endif  // GATE_CA_AUDIT_AUDIT_H_
