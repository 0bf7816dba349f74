// Where the event loop sends what it records. In production a
// cast::Writer (cast_sink.h); the unit tests drive the loop with an
// in-memory sink, so the loop is tested without the file format.
#ifndef GATE_RECORDER_SESSION_RECORDING_SINK_H_
#define GATE_RECORDER_SESSION_RECORDING_SINK_H_

#include <cstddef>
#include <string_view>

#include "gate/status.h"

namespace gate::recorder {

// The cast::Writer contract (gate/asciicast.h): t is seconds since the
// session started; events are buffered until Flush; an error is sticky.
class RecordingSink {
 public:
  virtual ~RecordingSink() = default;
  virtual void Output(double t, std::string_view bytes) = 0;
  virtual void Input(double t, std::string_view bytes) = 0;
  virtual void Resize(double t, int cols, int rows) = 0;
  virtual void Join(double t, std::string_view json) = 0;
  virtual void Exit(double t, std::string_view json) = 0;
  virtual Status Flush(double t) = 0;
  // Flush, fsync and close.
  virtual Status Close(double t) = 0;
  virtual std::size_t buffered_bytes() const = 0;
};

}  // namespace gate::recorder

#endif  // GATE_RECORDER_SESSION_RECORDING_SINK_H_
