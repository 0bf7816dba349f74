// Logging. Daemons and CLIs log to stderr; hooks, the recorder and the PAM
// module log to syslog (sshd discards a hook's stderr). Never pass a secret
// to these.
#ifndef GATE_LOG_H_
#define GATE_LOG_H_

#include <string>
#include <string_view>

namespace gate::log {

enum class Level { kDebug, kInfo, kWarning, kError };
enum class Sink { kStderr, kSyslog };

// Where Sink::kSyslog lines go, in order: the syslog daemon's socket; if
// nothing listens there (containers have no /dev/log), the systemd
// journal's native socket; if neither, the fallback descriptor, as stderr
// lines are written, so the reason for a refusal is never silently lost.
// Tests name sockets of their own.
struct Destinations {
  std::string syslog_socket = "/dev/log";
  std::string journal_socket = "/run/systemd/journal/socket";
  int fallback_fd = 2;  // not owned; -1 drops the lines
};

// Where kSyslog lines went at Init (each line falls further down the list
// if its destination stops answering).
enum class Route { kStderr, kSyslog, kJournal, kFallback };

// Chooses where lines go; ident names the program. Call at start-up,
// before threads (and before dropping privileges: the sockets are
// connected here, close-on-exec); the default is stderr at kInfo. A later
// call replaces the earlier choice and closes its socket. Never touches
// the process's openlog(3) state, so a host program's syslog ident stays.
void Init(Sink sink, std::string_view ident, Level min_level = Level::kInfo);
void Init(Sink sink, std::string_view ident, Level min_level, const Destinations& where);

// The route Init chose (kFallback once neither socket answers).
Route CurrentRoute();

// Replaces the fallback descriptor of the current Init (not owned; -1
// drops the lines), e.g. once a program knows a log file of its own.
void SetFallbackFd(int fd);

// Code loaded into another program's process (a PAM module in sshd or
// sudo) must not change that program's syslog settings, which openlog()
// would: it sends each line, escaped, to `function` instead (pam_gate hands
// it to pam_syslog). Called with the logging lock held, from the thread
// that logs; it must not log itself. Same call rules as Init; a later Init
// goes back to stderr or syslog.
using LineFunction = void (*)(Level level, std::string_view line);
void InitFunction(LineFunction function, Level min_level);

// Thread-safe; one line per call, prefixed with an RFC 3339 UTC time and the
// level on stderr. Newlines and control characters in msg are escaped so a
// hostile value cannot forge log lines.
void Write(Level level, std::string_view msg);

inline void Debug(std::string_view m) { Write(Level::kDebug, m); }
inline void Info(std::string_view m) { Write(Level::kInfo, m); }
inline void Warning(std::string_view m) { Write(Level::kWarning, m); }
inline void Error(std::string_view m) { Write(Level::kError, m); }

}  // namespace gate::log

#endif  // GATE_LOG_H_
