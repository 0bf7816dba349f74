// `gate status` inside a recorded session: the block `teleport status`
// prints (cluster, host, session id and URL), from GATE_SESSION_ID, the
// recorder settings and the live registry (gate/recorder_settings.h,
// gate/live_session.h: the recorder writes them, this only reads).
#ifndef GATE_CLI_COMMON_SESSION_STATUS_H_
#define GATE_CLI_COMMON_SESSION_STATUS_H_

#include <string>

#include "gate/status.h"

namespace gate::cli {

// session_id: $GATE_SESSION_ID; settings_path: $GATE_RECORDER_CONFIG or
// /etc/gate/recorder.json. Returns
//   Cluster Name: grav-00
//   Host UUID   : <host uuid>
//   Session ID  : <id>
//   Session URL : https://<proxy>/web/sessions/<id>
// (each line ending in '\n') if the settings parse and <run_dir>/<id>.json
// names this session. NotFound if this is not a live recorded session;
// other errors if the settings or the entry cannot be read. Runs as the
// user, so it only reads what is world-readable and trusts it for display.
Result<std::string> SessionStatusBlock(const std::string& session_id,
                                       const std::string& settings_path);

}  // namespace gate::cli

#endif  // GATE_CLI_COMMON_SESSION_STATUS_H_
