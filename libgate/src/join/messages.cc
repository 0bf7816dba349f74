#include <json/json.h>

#include <initializer_list>

#include "gate/join_protocol.h"
#include "gate/json.h"
#include "gate/uuid.h"

namespace gate::recorder {
namespace {

Status OnlyFields(const Json::Value& obj, std::initializer_list<std::string_view> allowed) {
  for (const std::string& name : obj.getMemberNames()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || name == a;
    if (!known) return InvalidArgument("unknown field '" + name + "'");
  }
  return Status::Ok();
}

Status CheckVersion(const Json::Value& obj) {
  auto version = json::GetInt(obj, "version");
  if (!version) return version.error();
  if (*version != kJoinProtocolVersion) {
    return InvalidArgument("unsupported join protocol version " + std::to_string(*version) +
                           " (this side speaks " + std::to_string(kJoinProtocolVersion) + ")");
  }
  return Status::Ok();
}

}  // namespace

std::string_view JoinModeName(JoinMode mode) {
  return mode == JoinMode::kPeer ? "peer" : "observer";
}

Result<JoinMode> ParseJoinMode(std::string_view name) {
  if (name == "observer") return JoinMode::kObserver;
  if (name == "peer") return JoinMode::kPeer;
  return Err(InvalidArgument("mode must be \"observer\" or \"peer\""));
}

std::string HelloJson(JoinMode mode) {
  Json::Value v(Json::objectValue);
  v["version"] = kJoinProtocolVersion;
  v["mode"] = std::string(JoinModeName(mode));
  return json::Write(v);
}

Result<JoinMode> ParseHello(std::string_view payload) {
  auto v = json::Parse(payload, kMaxFramePayload);
  if (!v) return Err(v.error());
  GATE_RETURN_IF_ERROR(OnlyFields(*v, {"version", "mode"}));
  GATE_RETURN_IF_ERROR(CheckVersion(*v));
  auto mode = json::GetString(*v, "mode");
  if (!mode) return Err(mode.error());
  return ParseJoinMode(*mode);
}

std::string AcceptJson(const Accept& accept) {
  Json::Value v(Json::objectValue);
  v["version"] = kJoinProtocolVersion;
  v["session_id"] = accept.session_id;
  v["user"] = accept.user;
  v["login"] = accept.login;
  v["mode"] = std::string(JoinModeName(accept.mode));
  return json::Write(v);
}

Result<Accept> ParseAccept(std::string_view payload) {
  auto v = json::Parse(payload, kMaxFramePayload);
  if (!v) return Err(v.error());
  GATE_RETURN_IF_ERROR(CheckVersion(*v));
  Accept accept;
  for (auto [name, field] : {std::pair{"session_id", &accept.session_id},
                             std::pair{"user", &accept.user}, std::pair{"login", &accept.login}}) {
    auto s = json::GetString(*v, name);
    if (!s) return Err(s.error());
    *field = std::move(*s);
  }
  auto mode = json::GetString(*v, "mode");
  if (!mode) return Err(mode.error());
  auto parsed = ParseJoinMode(*mode);
  if (!parsed) return Err(parsed.error());
  accept.mode = *parsed;
  return accept;
}

std::string JoinEventJson(bool join, std::string_view user, JoinMode mode) {
  Json::Value v(Json::objectValue);
  v["event"] = join ? "join" : "leave";
  v["user"] = std::string(user);
  v["mode"] = std::string(JoinModeName(mode));
  return json::Write(v);
}

std::string DescribeEnd(std::string_view exit_json) {
  auto v = json::Parse(exit_json, kMaxFramePayload);
  if (v) {
    auto status = json::GetInt(*v, "exit_status");
    if (status) return "session ended (exit status " + std::to_string(*status) + ")";
    auto signal = json::GetString(*v, "signal");
    if (signal) {
      // The name comes from the recorder; keep only what a signal name can be.
      std::string name;
      for (char c : *signal) {
        if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) name += c;
      }
      if (!name.empty() && name.size() <= 16) return "session ended (signal " + name + ")";
    }
  }
  return "session ended";
}

Status ValidateSessionId(std::string_view id) {
  if (!IsCanonicalUuid(id)) {
    return InvalidArgument(
        "session ID must be a UUID in lower-case hex "
        "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
  }
  return Status::Ok();
}

}  // namespace gate::recorder
