// The production RecordingSink: the asciicast writer (gate/asciicast.h).
#ifndef GATE_RECORDER_SESSION_CAST_SINK_H_
#define GATE_RECORDER_SESSION_CAST_SINK_H_

#include <memory>

#include "gate/asciicast.h"
#include "recorder/session/recording_sink.h"

namespace gate::recorder {

std::unique_ptr<RecordingSink> MakeCastSink(cast::Writer writer);

}  // namespace gate::recorder

#endif  // GATE_RECORDER_SESSION_CAST_SINK_H_
