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

void AuditLog::RecordRefusal(const std::string& source, const std::string& what, std::int64_t now) {
  RecordRows(refusals_.Add(source, what, now), now);
}

void AuditLog::FlushRefusals(std::int64_t now) { RecordRows(refusals_.DrainAll(), now); }

void AuditLog::RecordRows(const std::vector<RefusalCounter::Row>& rows, std::int64_t now) {
  for (const RefusalCounter::Row& row : rows) {
    const std::string detail =
        row.window_start
            ? "refused " + row.what +
                  " (too many requests); further refusals from this source within a minute are "
                  "counted in one event"
            : "refused " + std::to_string(row.count) + " more request(s) in the minute from " +
                  std::to_string(row.since) + "; the last: " + row.what;
    Record({now, "rate_limit", "", row.source, false, detail});
  }
}

}  // namespace gate::ca
