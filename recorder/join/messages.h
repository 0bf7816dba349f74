// The JSON payloads of the live-join frames (frame.h): the client's hello,
// the recorder's accept, the "j" event a join or leave records, and the
// checks on a session ID before it becomes part of a path.
#ifndef GATE_RECORDER_JOIN_MESSAGES_H_
#define GATE_RECORDER_JOIN_MESSAGES_H_

#include <string>
#include <string_view>

#include "gate/status.h"
#include "recorder/join/join_hub.h"

namespace gate::recorder {

std::string_view JoinModeName(JoinMode mode);  // "observer" or "peer"
Result<JoinMode> ParseJoinMode(std::string_view name);

// {"version": 1, "mode": "observer"|"peer"}. ParseHello is strict: other
// versions, a missing or unknown mode and unknown fields are InvalidArgument.
std::string HelloJson(JoinMode mode);
Result<JoinMode> ParseHello(std::string_view payload);

struct Accept {
  std::string session_id;
  std::string user;   // the session's Gate user
  std::string login;  // the session's OS login
  JoinMode mode = JoinMode::kObserver;
};
std::string AcceptJson(const Accept& accept);
Result<Accept> ParseAccept(std::string_view payload);

// The data of a "j" event: {"event":"join"|"leave","user":"bob","mode":"observer"}.
std::string JoinEventJson(bool join, std::string_view user, JoinMode mode);

// "session ended (exit status 0)" / "session ended (signal HUP)" from the E
// frame's JSON (the "x" event's data); "session ended" if it says neither.
std::string DescribeEnd(std::string_view exit_json);

// Session IDs are UUIDs in canonical lower-case form (gate/uuid.h).
// Anything else is InvalidArgument: the ID becomes a file name.
Status ValidateSessionId(std::string_view id);

}  // namespace gate::recorder

#endif  // GATE_RECORDER_JOIN_MESSAGES_H_
