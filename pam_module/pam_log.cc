#include "pam_module/pam_log.h"

#include <security/pam_ext.h>
#include <syslog.h>

#include <string>

namespace gate::pam {
namespace {

// The handle of the call in progress on this thread: an application may run
// several PAM conversations on several threads, each with its own handle.
thread_local pam_handle_t* t_pamh = nullptr;

int Priority(log::Level level) {
  switch (level) {
    case log::Level::kDebug:
      return LOG_DEBUG;
    case log::Level::kInfo:
      return LOG_INFO;
    case log::Level::kWarning:
      return LOG_WARNING;
    case log::Level::kError:
      return LOG_ERR;
  }
  return LOG_ERR;
}

void Line(log::Level level, std::string_view line) {
  const std::string text(line);
  if (t_pamh != nullptr) {
    ::pam_syslog(t_pamh, Priority(level), "%s", text.c_str());
  } else {
    // syslog(3) without openlog: the application's ident stays.
    ::syslog(LOG_AUTHPRIV | Priority(level), "pam_gate: %s", text.c_str());
  }
}

}  // namespace

ScopedPamLog::ScopedPamLog(pam_handle_t* pamh, log::Level min_level) {
  t_pamh = pamh;
  log::InitFunction(&Line, min_level);
}

ScopedPamLog::~ScopedPamLog() { t_pamh = nullptr; }

void ScopedPamLog::SetMinLevel(log::Level min_level) { log::InitFunction(&Line, min_level); }

}  // namespace gate::pam
