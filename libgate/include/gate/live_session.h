// The live registry entry of a recorded session (docs/recording.md, "Files
// and users"): <run_dir>/<id>.json, written by gate-record for as long as the
// session lives, read by gate status (to print it) and by the join
// authorizer and gate join (to find the session's socket). One definition of
// the format, so writer and readers cannot disagree on a field.
#ifndef GATE_LIVE_SESSION_H_
#define GATE_LIVE_SESSION_H_

#include <json/json.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "gate/status.h"

namespace gate::recorder {

struct LiveSession {
  std::string session_id;
  std::string user;   // Gate user
  std::string login;  // OS account
  std::string node;   // host UUID
  pid_t recorder_pid = 0;
  std::int64_t started_at = 0;  // unix seconds
  std::string socket;           // join socket path, or empty without live join
  std::string mode;             // interactive, exec, exec-pty
  std::string tty;              // the outer terminal ("/dev/pts/3") or empty
  // The Gate certificate's serial, so gate-node can tell which sessions a
  // revocation ends. JSON: a decimal string; 0 when absent.
  std::uint64_t cert_serial = 0;
};

Json::Value LiveSessionToJson(const LiveSession& s);
// Strict about types; requires session_id (a UUID), user and login;
// cert_serial, when present, must be a canonical decimal string.
Result<LiveSession> LiveSessionFromJson(const Json::Value& json);

// <run_dir>/<id>.json.
std::string LiveSessionPath(const std::string& run_dir, const std::string& id);

// Whether <run_dir>/<id>.json exists, for a user inside the session (gate
// status): the entry itself is readable by the recorders only (mode 0600,
// it names who is logged in and on which terminal), but the run directory
// lets anyone look a name up. Ok if it exists; InvalidArgument if id is
// not a session id; NotFound if there is no entry; other errors as stat(2).
Status CheckLiveSessionExists(const std::string& run_dir, const std::string& id);

// Reads and parses <run_dir>/<id>.json (a small ordinary file; no owner
// check: the readers are the recorders and root's tools). InvalidArgument
// if id is not a session id, NotFound if there is no entry, DataLoss if it
// names another session.
Result<LiveSession> ReadLiveSession(const std::string& run_dir, const std::string& id);

}  // namespace gate::recorder

#endif  // GATE_LIVE_SESSION_H_
