#include "recorder/session/session_status.h"

#include "gate/secure_file.h"
#include "recorder/session/session_files.h"
#include "recorder/session/settings.h"

namespace gate::recorder {

Result<std::string> SessionStatusBlock(const std::string& session_id,
                                       const std::string& settings_path) {
  if (!IsSessionId(session_id)) {
    return Err(NotFound("GATE_SESSION_ID is not a session id"));
  }
  auto text = ReadFile(settings_path, kMaxSettingsSize);
  if (!text) return Err(text.error());
  auto settings = ParseSettings(*text);
  if (!settings) return Err(settings.error().WithContext(settings_path));
  auto live = ReadLiveSession(settings->run_dir, session_id);
  if (!live) return Err(live.error());
  std::string out;
  out += "Cluster Name: " + settings->cluster_name + "\n";
  out += "Host UUID   : " + settings->host_uuid + "\n";
  out += "Session ID  : " + session_id + "\n";
  out += "Session URL : https://" + settings->proxy + "/web/sessions/" + session_id + "\n";
  return out;
}

}  // namespace gate::recorder
