// Logging. Daemons and CLIs log to stderr; hooks and the PAM module log to
// syslog (sshd discards a hook's stderr). Never pass a secret to these.
#ifndef GATE_LOG_H_
#define GATE_LOG_H_

#include <string_view>

namespace gate::log {

enum class Level { kDebug, kInfo, kWarning, kError };
enum class Sink { kStderr, kSyslog };

// Chooses where lines go; ident names the program in syslog. Call once at
// start-up, before threads; the default is stderr at kInfo.
void Init(Sink sink, std::string_view ident, Level min_level = Level::kInfo);

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
