// The two files `gate-node record on` writes besides the key
// (docs/recording.md, "Turning recording on"):
//
//  - the recorder's settings, /etc/gate/recorder.json (root 0644), read by
//    gate-record (format: gate/recorder_settings.h);
//  - the node's own note of what it set up, DATA_DIR/record.json (root
//    0600), read by `record status`, `record off`, `join` (to keep the
//    ForceCommand in the drop-in it rewrites) and `leave` (to undo exactly
//    what `record on` created, wherever the path flags put it).
#ifndef GATE_SSHD_HOOKS_NODE_RECORD_STATE_H_
#define GATE_SSHD_HOOKS_NODE_RECORD_STATE_H_

#include <json/json.h>

#include <cstdint>
#include <string>
#include <vector>

#include "gate/status.h"

namespace gate::hooks {

inline constexpr char kRecordStateFile[] = "record.json";

// recorder.json itself (gate::recorder::Settings, RenderSettings,
// ValidateSettings) is gate/recorder_settings.h's: its reader is gate-record.

// record.json: what `record on` did on this node.
struct RecordState {
  bool all_sessions = false;  // ForceCommand in the drop-in; else roles only
  std::string recorder_command;
  std::string recorder_user;
  bool created_user = false;  // record on ran useradd; leave may run userdel
  std::string config_file;    // recorder.json
  std::string public_key_file;
  std::string key_dir;
  std::string spool_dir;
  std::string run_dir;
  // Directories record on created (parents first), for leave to remove
  // again while empty, in reverse order.
  std::vector<std::string> created_dirs;
  std::string key_fingerprint;  // the key registered with gate-ca

  std::string KeyFile() const { return key_dir + "/recorder.key"; }
};

// {"version": 1, "sessions": "all"|"roles", "recorder_command",
// "recorder_user", "created_user", "config_file", "public_key_file",
// "key_dir", "spool_dir", "run_dir", "created_dirs": [], "key_fingerprint"}.
// FromJson is strict: unknown or missing fields, wrong types, relative
// paths, and an unknown version are InvalidArgument.
Json::Value RecordStateToJson(const RecordState& state);
Result<RecordState> RecordStateFromJson(const Json::Value& json);

// Reads path as root's (this euid's) file, not writable by others.
// NotFound passes through (recording was never set up); a file that does
// not parse is DataLoss.
Result<RecordState> ReadRecordState(const std::string& path);

// Writes path atomically, mode 0600.
Status WriteRecordState(const std::string& path, const RecordState& state);

}  // namespace gate::hooks

#endif  // GATE_SSHD_HOOKS_NODE_RECORD_STATE_H_
