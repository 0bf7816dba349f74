// Live join as gate-record sets it up for a session: the default
// authorizer over the node's run directory and policy cache, and the hub
// listening on the session's socket. One call, so the recorder's wiring stays a line.
#ifndef GATE_RECORDER_JOIN_LIVE_JOIN_H_
#define GATE_RECORDER_JOIN_LIVE_JOIN_H_

#include <cstdint>
#include <memory>
#include <string>

#include "gate/recorder_settings.h"
#include "gate/status.h"
#include "recorder/join/join_hub.h"

namespace gate::recorder {

struct LiveJoinSetup {
  std::string socket_path;  // <run_dir>/<id>.sock
  SessionSummary summary;
  std::string run_dir;    // recorder.json's run_dir
  std::string cache_dir;  // recorder.json's cache_dir (owned by root)
  // Where and how much history joiners get (recorder.json's spool_dir and
  // join_history_bytes; join_history.h).
  std::string history_dir;
  std::uint64_t history_bytes = kDefaultJoinHistoryBytes;
};

// Errors: those of JoinHub::Listen.
Result<std::unique_ptr<JoinHub>> ListenForJoiners(const LiveJoinSetup& setup,
                                                  JoinCallbacks callbacks);

}  // namespace gate::recorder

#endif  // GATE_RECORDER_JOIN_LIVE_JOIN_H_
