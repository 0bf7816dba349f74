#include "ca-server/audit/audit.h"

#include <ctime>
#include <utility>

#include "gate/log.h"

namespace gate::ca {

void AuditLog::Record(AuditEvent event) {
  if (event.time == 0) event.time = static_cast<std::int64_t>(std::time(nullptr));
  std::string line = "audit: " + event.event + (event.success ? " ok" : " denied") +
                     " user=" + (event.user.empty() ? "-" : event.user) +
                     " source=" + (event.source.empty() ? "-" : event.source);
  if (!event.detail.empty()) line += " detail=" + event.detail;
  log::Write(event.success ? log::Level::kInfo : log::Level::kWarning, line);
  if (Status s = store_.AppendAudit(event); !s.ok()) {
    log::Error("audit: cannot store event " + event.event + ": " + s.ToString());
  }
}

}  // namespace gate::ca
