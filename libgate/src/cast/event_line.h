// One event line, `[time, "type", "data"]`, parsed without jsoncpp: a
// recording can hold a million of them, and the grammar is three fields.
#ifndef GATE_LIBGATE_SRC_CAST_EVENT_LINE_H_
#define GATE_LIBGATE_SRC_CAST_EVENT_LINE_H_

#include <cstddef>
#include <string_view>

#include "gate/asciicast.h"
#include "gate/status.h"

namespace gate::cast::internal {

// Parses line (without its '\n') into event's time, type and data; leaves
// event->line alone. The time must be a finite JSON number >= 0, the type a
// one-character string of printable ASCII. If data_offset is not null it is
// set to the offset in line of the first byte of the data string's body
// (just after its opening quote). InvalidArgument with a short reason; the
// caller adds the line number.
Status ParseEventLine(std::string_view line, Event* event, std::size_t* data_offset);

}  // namespace gate::cast::internal

#endif  // GATE_LIBGATE_SRC_CAST_EVENT_LINE_H_
