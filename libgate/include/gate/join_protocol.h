// The live-join protocol (docs/recording.md, "Live join"), shared by the
// recorder that serves a session's join socket and `gate join` that
// connects to it: the frames on the socket and the JSON messages they carry.
//
// Frames: 1 byte type, 4 bytes big-endian payload length, then the payload
// (at most kMaxFramePayload bytes), in both directions. The hello and accept
// messages carry kJoinProtocolVersion; a peer with another version is
// refused, never guessed at. Pure code over bytes, no I/O.
#ifndef GATE_JOIN_PROTOCOL_H_
#define GATE_JOIN_PROTOCOL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gate/status.h"

namespace gate::recorder {

inline constexpr std::size_t kFrameHeaderSize = 5;
inline constexpr std::size_t kMaxFramePayload = 64 * 1024;

// Version of the hello/accept messages; bumped when their meaning changes.
inline constexpr int kJoinProtocolVersion = 1;

enum class FrameType : char {
  // Client to recorder.
  kHello = 'H',  // JSON {"version": 1, "mode": "observer"|"peer"}
  kInput = 'I',  // keystrokes
  // Recorder to client.
  kAccept = 'A',  // JSON {"version": 1, "session_id", "user", "login", "mode"}
  kRefuse = 'R',  // reason text
  kOutput = 'O',  // terminal output
  kNotice = 'M',  // notice text ("bob joined as observer")
  kEnd = 'E',     // JSON, the data of the recording's "x" event
};

// Which frame types a reader accepts: each side refuses the other side's
// types, so a client cannot send 'O' and a recorder cannot send 'H'.
enum class FrameDirection { kToRecorder, kToClient };

struct Frame {
  FrameType type = FrameType::kInput;
  std::string payload;
};

// Appends one frame to out. payload must be at most kMaxFramePayload bytes
// (a programming error otherwise: the caller splits; see AppendFrames).
void AppendFrame(std::string& out, FrameType type, std::string_view payload);

// Appends payload as as many frames of `type` as it takes, each at most
// kMaxFramePayload bytes. Nothing is appended for an empty payload.
void AppendFrames(std::string& out, FrameType type, std::string_view payload);

// Incremental reader for a non-blocking socket: Feed what arrived, then take
// frames with Next until it returns nullopt (need more bytes). Any error is
// final (the connection must be dropped): InvalidArgument for an unknown or
// wrong-direction type, or a length above kMaxFramePayload. At end of stream,
// a non-empty pending() means the last frame was truncated.
class FrameDecoder {
 public:
  explicit FrameDecoder(FrameDirection direction) : direction_(direction) {}

  void Feed(std::string_view bytes) { buffer_.append(bytes); }
  Result<std::optional<Frame>> Next();
  std::size_t pending() const { return buffer_.size() - consumed_; }

 private:
  FrameDirection direction_;
  std::string buffer_;
  std::size_t consumed_ = 0;
};

// True if type is one `direction` carries.
bool ValidFrameType(FrameDirection direction, char type);

// ---- Messages: the JSON payloads of the frames above ----

// What a joiner may do: watch, or also type into the session.
enum class JoinMode { kObserver, kPeer };

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

#endif  // GATE_JOIN_PROTOCOL_H_
