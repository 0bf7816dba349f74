// What gate-ca learns from a recording once its upload is complete: whether
// its checkpoints verify with the node's recorder key, when it ended, how,
// and who joined it (for the audit log). Pure function over the bytes, so it
// can be tested and fuzzed without a server.
#ifndef GATE_CA_SESSIONS_RECORDING_SUMMARY_H_
#define GATE_CA_SESSIONS_RECORDING_SUMMARY_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gate::ca {

// A "j" event (docs/recording.md, "Live join").
struct JoinEvent {
  double time = 0;   // seconds since the session started
  bool join = true;  // false: "leave"
  std::string user;  // the joining Gate user (validated as a user name)
  std::string mode;  // "observer" or "peer"
};

// At most this many j events are reported per recording; the rest are
// counted in dropped_joins, so one recording cannot flood the audit log.
inline constexpr std::size_t kMaxJoinEvents = 1000;

struct RecordingSummary {
  // Every byte of the file is covered by a checkpoint signed with the
  // node's recorder key.
  bool verified = false;
  // "complete"; "cut short at 12.3 s" (verified, no exit event); or why it
  // is not verified. Never a secret; safe for the index and the audit log.
  std::string verify_detail;
  double duration = 0;  // time of the last event parsed
  std::string exit;     // data of the last "x" event, or empty
  std::vector<JoinEvent> joins;
  std::size_t dropped_joins = 0;    // beyond kMaxJoinEvents
  std::size_t malformed_joins = 0;  // j events whose data is not the expected JSON
  std::string parse_error;          // empty if every line parsed; else where it stopped
};

// recorder_key: the node's registered key ("ssh-ed25519 AAAA..."), or empty
// when it has none. Events are read one at a time (cast::Reader), so memory
// does not grow with the file.
RecordingSummary SummarizeRecording(std::string_view file, std::string_view recorder_key);

}  // namespace gate::ca

#endif  // GATE_CA_SESSIONS_RECORDING_SUMMARY_H_
