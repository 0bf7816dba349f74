#include "gate/live_session.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "gate/json.h"
#include "gate/policy_serial.h"
#include "gate/secure_file.h"
#include "gate/uuid.h"

namespace gate::recorder {

Json::Value LiveSessionToJson(const LiveSession& s) {
  Json::Value v(Json::objectValue);
  v["session_id"] = s.session_id;
  v["user"] = s.user;
  v["login"] = s.login;
  v["node"] = s.node;
  v["recorder_pid"] = static_cast<Json::Int64>(s.recorder_pid);
  v["started_at"] = static_cast<Json::Int64>(s.started_at);
  v["socket"] = s.socket;
  v["mode"] = s.mode;
  v["tty"] = s.tty;
  v["cert_serial"] = std::to_string(s.cert_serial);
  return v;
}

Result<LiveSession> LiveSessionFromJson(const Json::Value& json) {
  LiveSession s;
  for (auto [name, field] : {std::pair{"session_id", &s.session_id}, std::pair{"user", &s.user},
                             std::pair{"login", &s.login}}) {
    auto v = json::GetString(json, name);
    if (!v) return Err(v.error());
    *field = std::move(*v);
  }
  if (!IsCanonicalUuid(s.session_id))
    return Err(InvalidArgument("field 'session_id' is not a UUID"));
  for (auto [name, field] : {std::pair{"node", &s.node}, std::pair{"socket", &s.socket},
                             std::pair{"mode", &s.mode}, std::pair{"tty", &s.tty}}) {
    auto v = json::OptionalString(json, name);
    if (!v) return Err(v.error());
    *field = std::move(*v);
  }
  auto pid = json::OptionalInt(json, "recorder_pid", 0);
  if (!pid) return Err(pid.error());
  s.recorder_pid = static_cast<pid_t>(*pid);
  auto started = json::OptionalInt(json, "started_at", 0);
  if (!started) return Err(started.error());
  s.started_at = *started;
  if (json.isMember("cert_serial")) {
    auto serial = policy::SerialFromJson(json["cert_serial"]);
    if (!serial) return Err(serial.error().WithContext("field 'cert_serial'"));
    s.cert_serial = *serial;
  }
  return s;
}

std::string LiveSessionPath(const std::string& run_dir, const std::string& id) {
  return run_dir + "/" + id + ".json";
}

Status CheckLiveSessionExists(const std::string& run_dir, const std::string& id) {
  if (!IsCanonicalUuid(id)) return InvalidArgument("'" + id + "' is not a session id");
  const std::string path = LiveSessionPath(run_dir, id);
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT) return NotFound("no live session " + id + " (" + path + ")");
    return Unavailable("cannot stat " + path + ": " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) return NotFound(path + " is not a registry entry");
  return Status::Ok();
}

Result<LiveSession> ReadLiveSession(const std::string& run_dir, const std::string& id) {
  if (!IsCanonicalUuid(id)) return Err(InvalidArgument("'" + id + "' is not a session id"));
  auto text = ReadFile(LiveSessionPath(run_dir, id), 64 * 1024);
  if (!text) return Err(text.error());
  auto json = json::Parse(*text);
  if (!json) return Err(json.error().WithContext(LiveSessionPath(run_dir, id)));
  auto s = LiveSessionFromJson(*json);
  if (!s) return Err(s.error().WithContext(LiveSessionPath(run_dir, id)));
  if (s->session_id != id) {
    return Err(DataLoss(LiveSessionPath(run_dir, id) + " names another session"));
  }
  return s;
}

}  // namespace gate::recorder
