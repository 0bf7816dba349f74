#include "gate/recorder_settings.h"

#include <json/json.h>

#include <set>
#include <utility>

#include "gate/json.h"

namespace gate::recorder {
namespace {

constexpr int kVersion = 1;

bool HasControl(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

Result<std::string> RequiredText(const Json::Value& obj, std::string_view name) {
  auto v = json::GetString(obj, name);
  if (!v) return Err(v.error());
  if (v->empty()) return Err(InvalidArgument("field '" + std::string(name) + "' is empty"));
  if (HasControl(*v)) {
    return Err(InvalidArgument("field '" + std::string(name) + "' contains control characters"));
  }
  return v;
}

Status OptionalPath(const Json::Value& obj, std::string_view name, std::string& out) {
  auto v = json::OptionalString(obj, name, out);
  if (!v) return v.error();
  if (v->empty() || v->front() != '/' || HasControl(*v)) {
    return InvalidArgument("field '" + std::string(name) + "' must be an absolute path");
  }
  out = std::move(*v);
  return Status::Ok();
}

Status OptionalBool(const Json::Value& obj, std::string_view name, bool& out) {
  const Json::Value* v = obj.find(name.data(), name.data() + name.size());
  if (v == nullptr || v->isNull()) return Status::Ok();
  if (!v->isBool())
    return InvalidArgument("field '" + std::string(name) + "' must be true or false");
  out = v->asBool();
  return Status::Ok();
}

}  // namespace

Result<Settings> ParseSettings(std::string_view text) {
  auto root = json::Parse(text, kMaxSettingsSize);
  if (!root) return Err(root.error());
  static const std::set<std::string> kKnown = {
      "version",      "cluster_name",       "host_uuid",         "node_name", "proxy",
      "cache_dir",    "spool_dir",          "run_dir",           "key_file",  "flush_interval_ms",
      "record_input", "record_exec_output", "join_history_bytes"};
  for (const std::string& name : root->getMemberNames()) {
    if (kKnown.count(name) == 0) return Err(InvalidArgument("unknown field '" + name + "'"));
  }
  auto version = json::GetInt(*root, "version");
  if (!version) return Err(version.error());
  if (*version != kVersion) {
    return Err(InvalidArgument("unsupported version " + std::to_string(*version) +
                               " (this recorder reads version 1)"));
  }
  Settings s;
  for (auto [name, field] :
       {std::pair{"cluster_name", &s.cluster_name}, std::pair{"host_uuid", &s.host_uuid},
        std::pair{"node_name", &s.node_name}, std::pair{"proxy", &s.proxy}}) {
    auto v = RequiredText(*root, name);
    if (!v) return Err(v.error());
    *field = std::move(*v);
  }
  GATE_RETURN_IF_ERROR(OptionalPath(*root, "cache_dir", s.cache_dir));
  GATE_RETURN_IF_ERROR(OptionalPath(*root, "spool_dir", s.spool_dir));
  GATE_RETURN_IF_ERROR(OptionalPath(*root, "run_dir", s.run_dir));
  GATE_RETURN_IF_ERROR(OptionalPath(*root, "key_file", s.key_file));
  auto flush = json::OptionalInt(*root, "flush_interval_ms", kDefaultFlushIntervalMs);
  if (!flush) return Err(flush.error());
  if (*flush < kMinFlushIntervalMs || *flush > kMaxFlushIntervalMs) {
    return Err(InvalidArgument("field 'flush_interval_ms' must be between " +
                               std::to_string(kMinFlushIntervalMs) + " and " +
                               std::to_string(kMaxFlushIntervalMs)));
  }
  s.flush_interval_ms = *flush;
  GATE_RETURN_IF_ERROR(OptionalBool(*root, "record_input", s.record_input));
  GATE_RETURN_IF_ERROR(OptionalBool(*root, "record_exec_output", s.record_exec_output));
  auto history = json::OptionalInt(*root, "join_history_bytes",
                                   static_cast<std::int64_t>(kDefaultJoinHistoryBytes));
  if (!history) return Err(history.error());
  if (*history != 0 && (*history < static_cast<std::int64_t>(kMinJoinHistoryBytes) ||
                        *history > static_cast<std::int64_t>(kMaxJoinHistoryBytes))) {
    return Err(
        InvalidArgument("field 'join_history_bytes' must be 0 (none kept on disk) or "
                        "between " +
                        std::to_string(kMinJoinHistoryBytes) + " (1 MiB) and " +
                        std::to_string(kMaxJoinHistoryBytes) + " (1 TiB)"));
  }
  s.join_history_bytes = static_cast<std::uint64_t>(*history);
  return s;
}

std::string RenderSettings(const Settings& s) {
  Json::Value v(Json::objectValue);
  v["version"] = kVersion;
  v["cluster_name"] = s.cluster_name;
  v["host_uuid"] = s.host_uuid;
  v["node_name"] = s.node_name;
  v["proxy"] = s.proxy;
  v["cache_dir"] = s.cache_dir;
  v["spool_dir"] = s.spool_dir;
  v["run_dir"] = s.run_dir;
  v["key_file"] = s.key_file;
  v["flush_interval_ms"] = Json::Int64{s.flush_interval_ms};
  v["record_input"] = s.record_input;
  v["record_exec_output"] = s.record_exec_output;
  v["join_history_bytes"] = Json::UInt64{s.join_history_bytes};
  return json::Write(v) + "\n";
}

Status ValidateSettings(const Settings& settings) {
  auto parsed = ParseSettings(RenderSettings(settings));
  return parsed ? Status::Ok() : parsed.error();
}

}  // namespace gate::recorder
