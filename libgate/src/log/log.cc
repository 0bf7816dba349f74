#include "gate/log.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

namespace gate::log {
namespace {

struct State {
  std::mutex mu;
  Sink sink = Sink::kStderr;
  Level min_level = Level::kInfo;
  std::string ident;
  Destinations where;
  Route route = Route::kStderr;
  int socket = -1;                  // connected to where.syslog_socket or journal_socket
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

void WriteAll(int fd, const std::string& line) {
  if (fd < 0) return;
  std::string_view rest(line);
  while (!rest.empty()) {
    ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere left to report a logging failure
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

// A datagram socket connected to path, close-on-exec; -1 if nothing
// listens there (or the path does not fit a sockaddr_un).
int ConnectDatagram(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) return -1;
  std::memcpy(addr.sun_path, path.data(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void CloseSocket(State& state) {
  if (state.socket >= 0) ::close(state.socket);
  state.socket = -1;
}

// Connects to the first destination that answers, from `from` on.
void Connect(State& state, Route from) {
  CloseSocket(state);
  if (from == Route::kSyslog) {
    state.socket = ConnectDatagram(state.where.syslog_socket);
    if (state.socket >= 0) {
      state.route = Route::kSyslog;
      return;
    }
    from = Route::kJournal;
  }
  if (from == Route::kJournal) {
    state.socket = ConnectDatagram(state.where.journal_socket);
    if (state.socket >= 0) {
      state.route = Route::kJournal;
      return;
    }
  }
  state.route = Route::kFallback;
}

// What syslog(3) sends: "<PRI>Mmm dd hh:mm:ss ident[pid]: msg".
std::string SyslogDatagram(const State& state, Level level, const std::string& escaped) {
  const time_t now = ::time(nullptr);
  struct tm tm {};
  ::localtime_r(&now, &tm);
  char stamp[32];
  if (::strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm) == 0) stamp[0] = '\0';
  return "<" + std::to_string(LOG_AUTHPRIV | SyslogPriority(level)) + ">" + stamp + " " +
         state.ident + "[" + std::to_string(::getpid()) + "]: " + escaped;
}

// The journal's native protocol: one FIELD=value per line (the escaped
// message holds no newline).
std::string JournalDatagram(const State& state, Level level, const std::string& escaped) {
  return "PRIORITY=" + std::to_string(SyslogPriority(level)) +
         "\nSYSLOG_FACILITY=" + std::to_string(LOG_AUTHPRIV >> 3) +
         "\nSYSLOG_IDENTIFIER=" + state.ident + "\nSYSLOG_PID=" + std::to_string(::getpid()) +
         "\nMESSAGE=" + escaped + "\n";
}

bool Send(const State& state, const std::string& datagram) {
  for (;;) {
    const ssize_t n = ::send(state.socket, datagram.data(), datagram.size(), MSG_NOSIGNAL);
    if (n >= 0) return true;
    if (errno != EINTR) return false;
  }
}

std::string StderrLine(const State& state, Level level, const std::string& escaped) {
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
  return line;
}

}  // namespace

void Init(Sink sink, std::string_view ident, Level min_level) {
  Init(sink, ident, min_level, Destinations());
}

void Init(Sink sink, std::string_view ident, Level min_level, const Destinations& where) {
  State& state = GetState();
  std::lock_guard<std::mutex> lock(state.mu);
  CloseSocket(state);
  state.sink = sink;
  state.function = nullptr;
  state.min_level = min_level;
  state.ident = std::string(ident);
  state.where = where;
  state.route = Route::kStderr;
  if (sink == Sink::kSyslog) Connect(state, Route::kSyslog);
}

void InitFunction(LineFunction function, Level min_level) {
  State& state = GetState();
  std::lock_guard<std::mutex> lock(state.mu);
  CloseSocket(state);
  state.sink = Sink::kStderr;
  state.route = Route::kStderr;
  state.min_level = min_level;
  state.function = function;
}

Route CurrentRoute() {
  State& state = GetState();
  std::lock_guard<std::mutex> lock(state.mu);
  return state.route;
}

void SetFallbackFd(int fd) {
  State& state = GetState();
  std::lock_guard<std::mutex> lock(state.mu);
  state.where.fallback_fd = fd;
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
  if (state.sink == Sink::kStderr) {
    WriteAll(STDERR_FILENO, StderrLine(state, level, escaped));
    return;
  }
  // A daemon that restarted (or went away) refuses the datagram: connect
  // again, from the same destination down, and send once more.
  for (int attempt = 0; attempt < 2 && state.route != Route::kFallback; ++attempt) {
    const std::string datagram = state.route == Route::kSyslog
                                     ? SyslogDatagram(state, level, escaped)
                                     : JournalDatagram(state, level, escaped);
    if (Send(state, datagram)) return;
    Connect(state, state.route);
  }
  WriteAll(state.where.fallback_fd, StderrLine(state, level, escaped));
}

}  // namespace gate::log
