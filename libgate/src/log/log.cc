#include "gate/log.h"

#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <mutex>
#include <string>

namespace gate::log {
namespace {

struct State {
  std::mutex mu;
  Sink sink = Sink::kStderr;
  Level min_level = Level::kInfo;
  // openlog() keeps the pointer it is given, so the ident must outlive every
  // syslog() call: it lives here, and is only replaced after closelog().
  std::string ident;
  LineFunction function = nullptr;  // when set, every line goes here instead
};

State& GetState() {
  // Leaked on purpose: threads may still log during static destruction.
  static State* state = new State;
  return *state;
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "DEBUG";
    case Level::kInfo:
      return "INFO";
    case Level::kWarning:
      return "WARNING";
    case Level::kError:
      return "ERROR";
  }
  return "ERROR";
}

int SyslogPriority(Level level) {
  switch (level) {
    case Level::kDebug:
      return LOG_DEBUG;
    case Level::kInfo:
      return LOG_INFO;
    case Level::kWarning:
      return LOG_WARNING;
    case Level::kError:
      return LOG_ERR;
  }
  return LOG_ERR;
}

// Control characters (including newline and NUL) become \n, \r, \t or \xHH,
// and a backslash becomes \\, so every escape in the output is unambiguous
// and a user name like "bob\nERROR forged" stays on its own line. Bytes
// >= 0x80 pass through: UTF-8 names should stay readable.
std::string Escape(std::string_view msg) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(msg.size());
  for (char c : msg) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      default:
        break;
    }
    if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

// "2025-01-31T12:34:56.789Z"
std::string Timestamp() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm {};
  ::gmtime_r(&ts.tv_sec, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ts.tv_nsec / 1000000));
  return buf;
}

void WriteStderr(const std::string& line) {
  std::string_view rest(line);
  while (!rest.empty()) {
    ssize_t n = ::write(STDERR_FILENO, rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere left to report a logging failure
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

void Init(Sink sink, std::string_view ident, Level min_level) {
  State& state = GetState();
  std::lock_guard<std::mutex> lock(state.mu);
  if (state.sink == Sink::kSyslog) ::closelog();
  state.sink = sink;
  state.function = nullptr;
  state.min_level = min_level;
  state.ident = std::string(ident);
  if (sink == Sink::kSyslog) {
    // LOG_NDELAY: connect now, before a caller chroots or drops privileges.
    ::openlog(state.ident.c_str(), LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
  }
}

void InitFunction(LineFunction function, Level min_level) {
  State& state = GetState();
  std::lock_guard<std::mutex> lock(state.mu);
  if (state.sink == Sink::kSyslog) ::closelog();
  state.sink = Sink::kStderr;
  state.min_level = min_level;
  state.function = function;
}

void Write(Level level, std::string_view msg) {
  State& state = GetState();
  std::lock_guard<std::mutex> lock(state.mu);
  if (level < state.min_level) return;
  const std::string escaped = Escape(msg);
  if (state.function != nullptr) {
    state.function(level, escaped);
    return;
  }
  if (state.sink == Sink::kSyslog) {
    ::syslog(LOG_AUTHPRIV | SyslogPriority(level), "%s", escaped.c_str());
    return;
  }
  std::string line = Timestamp();
  line += ' ';
  line += LevelName(level);
  line += ' ';
  if (!state.ident.empty()) {
    line += state.ident;
    line += ": ";
  }
  line += escaped;
  line += '\n';
  WriteStderr(line);
}

}  // namespace gate::log
