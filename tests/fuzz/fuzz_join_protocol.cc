// The live-join frames and messages (gate/join_protocol.h): what a joining
// client sends to the recorder of a session (which runs as gate-rec) and
// what the recorder sends back. The first input byte picks the direction
// (bit 0) and the size of the pieces the rest arrives in (the other bits;
// larger for long inputs), as a non-blocking socket delivers it. Checked for every input:
// - decoding in pieces gives the same frames and the same error as decoding
//   all of it at once;
// - every frame is within the limit, of a type of its direction, and encodes
//   back to exactly the bytes it was decoded from;
// - a hello or accept that parses formats back to a message that parses to
//   the same thing.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gate/join_protocol.h"

namespace {

using gate::recorder::Frame;
using gate::recorder::FrameDecoder;
using gate::recorder::FrameDirection;
using gate::recorder::FrameType;

struct Decoded {
  std::vector<Frame> frames;
  std::optional<std::string> error;
};

// Takes every frame the decoder has; false once it failed.
bool Drain(FrameDecoder& decoder, Decoded& out) {
  for (;;) {
    auto next = decoder.Next();
    if (!next) {
      out.error = next.error().message();
      return false;
    }
    if (!next->has_value()) return true;
    out.frames.push_back(std::move(**next));
  }
}

Decoded Decode(FrameDirection direction, std::string_view stream, std::size_t piece) {
  FrameDecoder decoder(direction);
  Decoded out;
  while (!stream.empty()) {
    const std::size_t n = std::min(piece, stream.size());
    decoder.Feed(stream.substr(0, n));
    stream.remove_prefix(n);
    if (!Drain(decoder, out)) return out;
  }
  return out;
}

void CheckMessage(const Frame& frame) {
  using gate::recorder::AcceptJson;
  using gate::recorder::DescribeEnd;
  using gate::recorder::HelloJson;
  using gate::recorder::ParseAccept;
  using gate::recorder::ParseHello;
  switch (frame.type) {
    case FrameType::kHello:
      if (auto mode = ParseHello(frame.payload); mode) {
        auto again = ParseHello(HelloJson(*mode));
        if (!again || *again != *mode) std::abort();
      }
      break;
    case FrameType::kAccept:
      if (auto accept = ParseAccept(frame.payload); accept) {
        auto again = ParseAccept(AcceptJson(*accept));
        if (!again || again->session_id != accept->session_id || again->user != accept->user ||
            again->login != accept->login || again->mode != accept->mode) {
          std::abort();
        }
      }
      break;
    case FrameType::kEnd:
      if (DescribeEnd(frame.payload).rfind("session ended", 0) != 0) std::abort();
      break;
    default:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto direction =
      (data[0] & 1) != 0 ? FrameDirection::kToClient : FrameDirection::kToRecorder;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  // At most ~256 pieces: byte-sized pieces of a 64 KiB input would spend
  // the run on Feed calls, and the splits that matter (inside a 5-byte
  // header) show up in small inputs.
  const std::size_t piece = std::max<std::size_t>(1 + (data[0] >> 1), stream.size() / 256);

  const Decoded whole = Decode(direction, stream, stream.size() + 1);
  const Decoded pieces = Decode(direction, stream, piece);
  if (whole.error != pieces.error || whole.frames.size() != pieces.frames.size()) std::abort();

  std::string encoded;
  for (std::size_t i = 0; i < whole.frames.size(); ++i) {
    const Frame& frame = whole.frames[i];
    if (frame.type != pieces.frames[i].type || frame.payload != pieces.frames[i].payload) {
      std::abort();
    }
    if (frame.payload.size() > gate::recorder::kMaxFramePayload ||
        !gate::recorder::ValidFrameType(direction, static_cast<char>(frame.type))) {
      std::abort();
    }
    gate::recorder::AppendFrame(encoded, frame.type, frame.payload);
    CheckMessage(frame);
  }
  if (stream.substr(0, encoded.size()) != encoded) std::abort();
  return 0;
}
