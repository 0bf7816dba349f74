// The browser terminal's message protocol over its WebSocket (docs/api.md,
// "Browser terminal and live join"): parsing what the browser sends in text
// frames, and writing what gate-ca sends. Pure functions; binary frames
// (keystrokes one way, terminal output the other) are bytes and need none.
#ifndef GATE_CA_WEB_TERMINAL_PROTOCOL_H_
#define GATE_CA_WEB_TERMINAL_PROTOCOL_H_

#include <optional>
#include <string>
#include <string_view>

#include "gate/secret.h"
#include "gate/status.h"

namespace gate::ca::web {

// Terminal sizes the browser may ask for, each of cols and rows.
inline constexpr int kMinTerminalSize = 1;
inline constexpr int kMaxTerminalSize = 1000;

struct TerminalSize {
  int cols = 80;
  int rows = 24;
};

// {"type":"start","csrf_token":"...","cols":N,"rows":N}: the first message.
struct StartMessage {
  SecretString csrf_token;
  TerminalSize size;
};

// {"type":"resize","cols":N,"rows":N}.
struct ResizeMessage {
  TerminalSize size;
};

// The start message, exactly: a JSON object with those four members and no
// other, type "start", a non-empty string token, and sizes in
// [kMinTerminalSize, kMaxTerminalSize]. InvalidArgument otherwise (the
// message never contains the token).
Result<StartMessage> ParseStartMessage(std::string_view text);

// A resize message, exactly as above. InvalidArgument otherwise.
Result<ResizeMessage> ParseResizeMessage(std::string_view text);

// {"type":"ready","node":NODE,"login":LOGIN} plus "session_id" when not
// empty (a live join).
std::string ReadyMessage(std::string_view node, std::string_view login,
                         std::string_view session_id);

// {"type":"end","exit_status":N}, or {"type":"end","signal":"HUP"} (the
// signal's name without "SIG"); {"type":"end"} when the node told neither.
std::string EndMessage(std::optional<int> exit_status, std::string_view signal);

// {"type":"error","message":MESSAGE}.
std::string ErrorMessage(std::string_view message);

}  // namespace gate::ca::web

#endif  // GATE_CA_WEB_TERMINAL_PROTOCOL_H_
