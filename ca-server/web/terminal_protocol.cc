#include "ca-server/web/terminal_protocol.h"

#include <json/json.h>

#include <initializer_list>

#include "gate/json.h"

namespace gate::ca::web {
namespace {

// A JSON text is small; the largest message is a start with its 43-character
// token.
constexpr std::size_t kMaxControlMessage = 1024;

// The object in text, whose "type" must be type and whose members must be
// exactly names.
Result<Json::Value> ParseObject(std::string_view text, std::string_view type,
                                std::initializer_list<std::string_view> names) {
  auto value = json::Parse(text, kMaxControlMessage);
  if (!value) return Err(InvalidArgument("malformed message: " + value.error().message()));
  for (const std::string& member : value->getMemberNames()) {
    bool known = member == "type";
    for (std::string_view name : names) known = known || member == name;
    if (!known) return Err(InvalidArgument("unknown member '" + member + "' in the message"));
  }
  auto got = json::GetString(*value, "type");
  if (!got) return Err(InvalidArgument("the message has no type"));
  if (*got != type) {
    return Err(InvalidArgument("expected a '" + std::string(type) + "' message"));
  }
  return value;
}

Result<TerminalSize> ParseSize(const Json::Value& value) {
  TerminalSize size;
  for (auto [name, out] : {std::pair<const char*, int*>{"cols", &size.cols},
                           std::pair<const char*, int*>{"rows", &size.rows}}) {
    auto n = json::GetInt(value, name);
    if (!n) return Err(InvalidArgument(n.error().message()));
    if (*n < kMinTerminalSize || *n > kMaxTerminalSize) {
      return Err(InvalidArgument(std::string(name) + " must be " +
                                 std::to_string(kMinTerminalSize) + ".." +
                                 std::to_string(kMaxTerminalSize)));
    }
    *out = static_cast<int>(*n);
  }
  return size;
}

}  // namespace

Result<StartMessage> ParseStartMessage(std::string_view text) {
  auto value = ParseObject(text, "start", {"csrf_token", "cols", "rows"});
  if (!value) return Err(value.error());
  const Json::Value& token = (*value)["csrf_token"];
  if (!token.isString() || token.asString().empty()) {
    return Err(InvalidArgument("the start message has no csrf_token"));
  }
  auto size = ParseSize(*value);
  if (!size) return Err(size.error());
  std::string copy = token.asString();
  StartMessage out{SecretString(copy), *size};
  Wipe(copy.data(), copy.size());
  return out;
}

Result<ResizeMessage> ParseResizeMessage(std::string_view text) {
  auto value = ParseObject(text, "resize", {"cols", "rows"});
  if (!value) return Err(value.error());
  auto size = ParseSize(*value);
  if (!size) return Err(size.error());
  return ResizeMessage{*size};
}

std::string ReadyMessage(std::string_view node, std::string_view login,
                         std::string_view session_id) {
  Json::Value out;
  out["type"] = "ready";
  out["node"] = std::string(node);
  out["login"] = std::string(login);
  if (!session_id.empty()) out["session_id"] = std::string(session_id);
  return json::Write(out);
}

std::string EndMessage(std::optional<int> exit_status, std::string_view signal) {
  Json::Value out;
  out["type"] = "end";
  if (!signal.empty()) {
    out["signal"] = std::string(signal);
  } else if (exit_status) {
    out["exit_status"] = *exit_status;
  }
  return json::Write(out);
}

std::string ErrorMessage(std::string_view message) {
  Json::Value out;
  out["type"] = "error";
  out["message"] = std::string(message);
  return json::Write(out);
}

}  // namespace gate::ca::web
