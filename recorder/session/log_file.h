// Where gate-record's log lines go on a node with neither syslog nor the
// journal (containers): not to its stderr, which is the user's terminal or
// ssh channel, but to a file only root and gate-rec can read.
#ifndef GATE_RECORDER_SESSION_LOG_FILE_H_
#define GATE_RECORDER_SESSION_LOG_FILE_H_

#include <string>

#include "gate/recorder_settings.h"
#include "gate/status.h"

namespace gate::recorder {

inline constexpr const char* kLogFileName = kRecorderLogFile;
// Past this size the file is left alone (and lines are dropped): a node
// without syslog must not fill its spool with log lines.
inline constexpr long long kMaxLogFileSize = 16LL << 20;

// If log lines have nowhere to go (log::CurrentRoute() is kFallback),
// opens <dir>/gate-record.log for appending (created 0600; O_NOFOLLOW; it
// must be a regular file owned by this process's effective uid and no
// larger than kMaxLogFileSize) and makes it the fallback for the rest of
// the process (the descriptor stays open, close-on-exec). Ok and no change
// when a log route exists; an error, changing nothing, if the file cannot
// be used. Call with the recorders' uid (gate-rec) as the effective uid.
Status RouteLogToFile(const std::string& dir);

}  // namespace gate::recorder

#endif  // GATE_RECORDER_SESSION_LOG_FILE_H_
