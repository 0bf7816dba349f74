#include "cli/common/session_status.h"

#include "gate/live_session.h"
#include "gate/recorder_settings.h"
#include "gate/secure_file.h"
#include "gate/uuid.h"

namespace gate::cli {

Result<std::string> SessionStatusBlock(const std::string& session_id,
                                       const std::string& settings_path) {
  if (!IsCanonicalUuid(session_id)) {
    return Err(NotFound("GATE_SESSION_ID is not a session id"));
  }
  auto text = ReadFile(settings_path, recorder::kMaxSettingsSize);
  if (!text) return Err(text.error());
  auto settings = recorder::ParseSettings(*text);
  if (!settings) return Err(settings.error().WithContext(settings_path));
  if (Status s = recorder::CheckLiveSessionExists(settings->run_dir, session_id); !s.ok()) {
    return Err(s);
  }
  std::string out;
  out += "Cluster Name: " + settings->cluster_name + "\n";
  out += "Host UUID   : " + settings->host_uuid + "\n";
  out += "Session ID  : " + session_id + "\n";
  out += "Session URL : https://" + settings->proxy + "/web/sessions/" + session_id + "\n";
  return out;
}

}  // namespace gate::cli
