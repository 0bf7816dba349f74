// gate-record from start to end: settings, identity, the recording file,
// privileges, the child and the event loop (docs/recording.md).
#ifndef GATE_RECORDER_SESSION_RECORDER_H_
#define GATE_RECORDER_SESSION_RECORDER_H_

#include <functional>
#include <memory>
#include <string>

#include "gate/env.h"
#include "gate/status.h"
#include "recorder/join/join_hub.h"
#include "recorder/session/identity.h"
#include "recorder/session/settings.h"

namespace gate::recorder {

// What a live-join hub is made from. socket_path is <run_dir>/<id>.sock.
struct HubRequest {
  std::string socket_path;
  SessionSummary summary;
  const Settings* settings = nullptr;
  const Identity* identity = nullptr;
};
// Makes the session's hub (JoinHub::Listen with an authorizer). Called for
// terminal sessions only, after the recorder has dropped to gate-rec for
// good and before the child is released to exec (so the session cannot
// act before its hub exists); the callbacks feed the event loop. An error
// means the session goes on without live join (and is logged); the
// recording is not affected.
using HubFactory = std::function<Result<std::unique_ptr<JoinHub>>(const HubRequest& request,
                                                                  JoinCallbacks callbacks)>;

struct RecorderOptions {
  std::string config_path{kDefaultSettingsPath};
  bool config_given = false;  // --config: passed on to the session as GATE_RECORDER_CONFIG
  HubFactory hub_factory;     // empty: no live join
  // Every file the session writes (recording, live registry) goes through
  // it; nullptr: Env::Default().
  Env* env = nullptr;
};

// Runs one session; returns gate-record's exit status: the session's
// (128 + signal if it was killed), or 1 if the session could not be
// recorded and therefore was not started. Never throws.
int RunRecorder(const RecorderOptions& options) noexcept;

}  // namespace gate::recorder

#endif  // GATE_RECORDER_SESSION_RECORDER_H_
