#include "sshd-hooks/node/record_state.h"

#include <algorithm>

#include "gate/json.h"
#include "gate/secure_file.h"

namespace gate::hooks {
namespace {

constexpr int kVersion = 1;

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

Status CheckName(std::string_view field, std::string_view value) {
  if (value.empty() || HasControl(value)) {
    return InvalidArgument(std::string(field) +
                           " must be non-empty text without control "
                           "characters");
  }
  return Status::Ok();
}

Status CheckPath(std::string_view field, std::string_view value) {
  if (value.empty() || value.front() != '/' || HasControl(value)) {
    return InvalidArgument(std::string(field) + " must be an absolute path, not '" +
                           std::string(value) + "'");
  }
  return Status::Ok();
}

Result<bool> GetBool(const Json::Value& obj, const char* name) {
  if (!obj.isMember(name)) return Err(InvalidArgument("missing field '" + std::string(name) + "'"));
  if (!obj[name].isBool()) {
    return Err(InvalidArgument("field '" + std::string(name) + "' must be true or false"));
  }
  return obj[name].asBool();
}

Result<std::string> GetPath(const Json::Value& obj, const char* name) {
  auto v = json::GetString(obj, name);
  if (!v) return Err(v.error());
  GATE_RETURN_IF_ERROR(CheckPath(std::string("field '") + name + "'", *v));
  return v;
}

}  // namespace

Json::Value RecordStateToJson(const RecordState& s) {
  Json::Value v(Json::objectValue);
  v["version"] = kVersion;
  v["sessions"] = s.all_sessions ? "all" : "roles";
  v["recorder_command"] = s.recorder_command;
  v["recorder_user"] = s.recorder_user;
  v["created_user"] = s.created_user;
  v["config_file"] = s.config_file;
  v["public_key_file"] = s.public_key_file;
  v["key_dir"] = s.key_dir;
  v["spool_dir"] = s.spool_dir;
  v["run_dir"] = s.run_dir;
  v["created_dirs"] = json::StringArray(s.created_dirs);
  v["key_fingerprint"] = s.key_fingerprint;
  return v;
}

Result<RecordState> RecordStateFromJson(const Json::Value& v) {
  if (!v.isObject()) return Err(InvalidArgument("record state must be a JSON object"));
  static constexpr std::string_view kFields[] = {
      "version",      "sessions",    "recorder_command", "recorder_user",
      "created_user", "config_file", "public_key_file",  "key_dir",
      "spool_dir",    "run_dir",     "created_dirs",     "key_fingerprint"};
  for (const std::string& name : v.getMemberNames()) {
    if (std::find(std::begin(kFields), std::end(kFields), name) == std::end(kFields)) {
      return Err(InvalidArgument("unknown field '" + name + "'"));
    }
  }
  auto version = json::GetInt(v, "version");
  if (!version) return Err(version.error());
  if (*version != kVersion) {
    return Err(InvalidArgument("unsupported record state version " + std::to_string(*version)));
  }
  RecordState s;
  auto sessions = json::GetString(v, "sessions");
  if (!sessions) return Err(sessions.error());
  if (*sessions != "all" && *sessions != "roles") {
    return Err(InvalidArgument("field 'sessions' must be \"all\" or \"roles\""));
  }
  s.all_sessions = *sessions == "all";
  for (auto [name, field] :
       {std::pair{"recorder_command", &s.recorder_command},
        std::pair{"config_file", &s.config_file}, std::pair{"public_key_file", &s.public_key_file},
        std::pair{"key_dir", &s.key_dir}, std::pair{"spool_dir", &s.spool_dir},
        std::pair{"run_dir", &s.run_dir}}) {
    auto path = GetPath(v, name);
    if (!path) return Err(path.error());
    *field = std::move(*path);
  }
  auto user = json::GetString(v, "recorder_user");
  if (!user) return Err(user.error());
  GATE_RETURN_IF_ERROR(CheckName("field 'recorder_user'", *user));
  s.recorder_user = std::move(*user);
  auto created_user = GetBool(v, "created_user");
  if (!created_user) return Err(created_user.error());
  s.created_user = *created_user;
  auto dirs = json::GetStringArray(v, "created_dirs");
  if (!dirs) return Err(dirs.error());
  for (const std::string& dir : *dirs) GATE_RETURN_IF_ERROR(CheckPath("created_dirs", dir));
  s.created_dirs = std::move(*dirs);
  auto fingerprint = json::GetString(v, "key_fingerprint");
  if (!fingerprint) return Err(fingerprint.error());
  s.key_fingerprint = std::move(*fingerprint);
  return s;
}

Result<RecordState> ReadRecordState(const std::string& path) {
  FilePolicy policy;
  policy.secret = false;
  policy.max_size = 64 * 1024;
  auto text = ReadSecureFile(path, policy);
  if (!text) return Err(text.error());
  auto json = json::Parse(text->view(), policy.max_size);
  if (!json) return Err(DataLoss(path + ": " + json.error().message()));
  auto state = RecordStateFromJson(*json);
  if (!state) return Err(DataLoss(path + ": " + state.error().message()));
  return state;
}

Status WriteRecordState(const std::string& path, const RecordState& state) {
  return WriteFileAtomic(path, json::Write(RecordStateToJson(state)) + "\n", 0600);
}

}  // namespace gate::hooks
