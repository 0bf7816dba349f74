// The header line: written by hand (asciinema's key order and separators,
// which jsoncpp's sorted objects cannot give), parsed with jsoncpp strictly.
#include <memory>
#include <string>

#include "gate/asciicast.h"
#include "gate/json.h"
#include "json_string.h"

namespace gate::cast {
namespace {

// Commands (SSH_ORIGINAL_COMMAND) can be long; 1 MiB still bounds a header.
constexpr std::size_t kMaxHeaderSize = 1 << 20;
// struct winsize holds unsigned short.
constexpr std::int64_t kMaxDimension = 65535;

void AppendString(std::string* out, std::string_view s) {
  out->push_back('"');
  const std::size_t at = out->size();
  out->resize(at + internal::kMaxEscapedPerByte * s.size() + internal::kEscapeSlack);
  std::size_t consumed = 0;
  const std::size_t n = internal::EscapeInto(s, /*final=*/true, out->data() + at, &consumed);
  out->resize(at + n);
  out->push_back('"');
}

void AppendMember(std::string* out, std::string_view name, std::string_view value, bool first) {
  if (!first) out->append(", ");
  AppendString(out, name);
  out->append(": ");
  AppendString(out, value);
}

void AppendIntMember(std::string* out, std::string_view name, std::int64_t value) {
  out->append(", ");
  AppendString(out, name);
  out->append(": ");
  out->append(std::to_string(value));
}

const Json::Value* Member(const Json::Value& obj, std::string_view name) {
  return obj.find(name.data(), name.data() + name.size());
}

Status Field(std::string_view object, const Status& s) {
  return s.WithContext(std::string(object));
}

Result<std::string> GateString(const Json::Value& gate, std::string_view name) {
  auto v = json::GetString(gate, name);
  if (!v) return Err(Field("header \"gate\" object", v.error()));
  return *v;
}

}  // namespace

std::string HeaderLine(const Header& h) {
  std::string out = "{\"version\": 2";
  AppendIntMember(&out, "width", h.width);
  AppendIntMember(&out, "height", h.height);
  AppendIntMember(&out, "timestamp", h.timestamp);
  out.append(", \"env\": {");
  bool first = true;
  for (const auto& [name, value] : h.env) {
    AppendMember(&out, name, value, first);
    first = false;
  }
  out.append("}, ");
  AppendMember(&out, "title", h.title, true);
  out.append(", \"gate\": {");
  AppendMember(&out, "session_id", h.session_id, true);
  AppendMember(&out, "user", h.user, false);
  AppendMember(&out, "login", h.login, false);
  AppendMember(&out, "node", h.node, false);
  AppendMember(&out, "node_name", h.node_name, false);
  AppendMember(&out, "cluster", h.cluster, false);
  AppendMember(&out, "cert_serial", h.cert_serial, false);
  AppendMember(&out, "mode", h.mode, false);
  AppendMember(&out, "command", h.command, false);
  AppendMember(&out, "key", h.key, false);
  out.append("}}\n");
  return out;
}

namespace {

// Rules for the fields both kinds of header share. A gate recording's header
// is what HeaderLine writes, so it is held to it: a timestamp, and env
// values that are strings. Any other asciicast v2 file (asciinema rec) may
// leave out the timestamp and write null for an unset variable.
Result<Header> ParseHeaderLine(std::string_view line, bool require_gate) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  auto root = json::Parse(line, kMaxHeaderSize);
  if (!root) return Err(root.error().WithContext("header"));
  Header h;

  auto version = json::GetInt(*root, "version");
  if (!version) return Err(Field("header", version.error()));
  if (*version != 2) return Err(InvalidArgument("header: field 'version' must be 2"));
  auto width = json::GetInt(*root, "width");
  if (!width) return Err(Field("header", width.error()));
  auto height = json::GetInt(*root, "height");
  if (!height) return Err(Field("header", height.error()));
  if (*width < 1 || *width > kMaxDimension || *height < 1 || *height > kMaxDimension) {
    return Err(InvalidArgument("header: 'width' and 'height' must be between 1 and 65535"));
  }
  h.width = static_cast<int>(*width);
  h.height = static_cast<int>(*height);
  const Json::Value* gate = Member(*root, "gate");
  if (require_gate && gate == nullptr) return Err(InvalidArgument("header: missing field 'gate'"));
  h.from_gate = gate != nullptr;
  auto timestamp =
      h.from_gate ? json::GetInt(*root, "timestamp") : json::OptionalInt(*root, "timestamp", 0);
  if (!timestamp) return Err(Field("header", timestamp.error()));
  h.timestamp = *timestamp;
  auto title = json::OptionalString(*root, "title");
  if (!title) return Err(Field("header", title.error()));
  h.title = *title;

  if (const Json::Value* env = Member(*root, "env"); env != nullptr && !env->isNull()) {
    if (!env->isObject()) return Err(InvalidArgument("header: field 'env' must be an object"));
    for (const std::string& name : env->getMemberNames()) {
      const Json::Value& v = (*env)[name];
      if (!h.from_gate && v.isNull()) continue;
      if (!v.isString()) {
        return Err(InvalidArgument("header: env '" + name + "' must be a string"));
      }
      h.env[name] = v.asString();
    }
  }
  if (!h.from_gate) return h;

  // A header that names gate's fields claims to be gate's: all or nothing.
  if (!gate->isObject()) return Err(InvalidArgument("header: field 'gate' must be an object"));
  std::string* const fields[] = {&h.session_id, &h.user,        &h.login, &h.node,    &h.node_name,
                                 &h.cluster,    &h.cert_serial, &h.mode,  &h.command, &h.key};
  const char* const names[] = {"session_id", "user",        "login", "node",    "node_name",
                               "cluster",    "cert_serial", "mode",  "command", "key"};
  for (std::size_t i = 0; i < std::size(names); ++i) {
    auto v = GateString(*gate, names[i]);
    if (!v) return Err(v.error());
    *fields[i] = std::move(*v);
  }
  if (h.mode != "interactive" && h.mode != "exec" && h.mode != "exec-pty") {
    return Err(InvalidArgument(
        "header \"gate\" object: field 'mode' must be \"interactive\", \"exec\" or \"exec-pty\""));
  }
  return h;
}

}  // namespace

Result<Header> ParseHeader(std::string_view line) { return ParseHeaderLine(line, true); }

Result<Header> ParseAnyHeader(std::string_view line) { return ParseHeaderLine(line, false); }

}  // namespace gate::cast
