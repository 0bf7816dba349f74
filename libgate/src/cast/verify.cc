// Verify: recompute the checkpoint chain over the file's own bytes and check
// each signature (docs/recording.md, "Checkpoints").
#include <string>

#include "chain.h"
#include "event_line.h"
#include "gate/asciicast.h"

namespace gate::cast {
namespace {

Status LineError(std::size_t line, std::string_view what) {
  return DataLoss("line " + std::to_string(line) + ": " + std::string(what));
}

std::string Lines(std::size_t first, std::size_t last) {
  if (first == last) return "line " + std::to_string(first);
  return "lines " + std::to_string(first) + "-" + std::to_string(last);
}

}  // namespace

Result<Verification> Verify(std::string_view file, const ssh::Ed25519PublicKey& key) {
  const std::size_t header_end = file.find('\n');
  if (header_end == std::string_view::npos) {
    return Err(
        LineError(1, file.empty() ? "the recording is empty" : "the header line is incomplete"));
  }
  const std::string_view header_line = file.substr(0, header_end + 1);
  auto header = ParseAnyHeader(header_line);
  if (!header) return Err(LineError(1, header.error().message()));
  if (!header->from_gate) {
    return Err(LineError(1, std::string(kNotAGateRecording)));
  }
  const std::string fingerprint = key.Fingerprint();
  if (header->key != fingerprint) {
    return Err(LineError(1, "the recording names recorder key " + header->key +
                                ", not the key it is being verified with (" + fingerprint + ")"));
  }

  std::string chain = internal::InitialHash(header_line);
  Verification result;
  bool any = false;
  bool exit_last = false;  // the event before the last checkpoint is "x"
  char previous_type = 0;
  std::size_t chunk_start = header_end + 1;
  std::size_t chunk_first_line = 1;  // the header feeds the first chunk via h0
  std::size_t pos = header_end + 1;
  std::size_t line = 1;
  Event event;
  std::string hash;
  std::string signature;
  while (pos < file.size()) {
    const std::size_t nl = file.find('\n', pos);
    if (nl == std::string_view::npos) break;  // cut mid-line: not covered
    ++line;
    const std::string_view text = file.substr(pos, nl - pos);
    std::size_t data_offset = 0;
    if (Status s = internal::ParseEventLine(text, &event, &data_offset); !s.ok()) {
      return Err(LineError(line, s.message()));
    }
    if (event.type == kCheckpoint) {
      if (Status s = internal::SplitCheckpointData(event.data, &hash, &signature); !s.ok()) {
        return Err(LineError(line, s.message()));
      }
      // The data has no escapes, so it stands in the line as decoded; what
      // follows it must be exactly `"]`, or those bytes would be unhashed.
      if (text.substr(data_offset) != event.data + "\"]") {
        return Err(LineError(line, "a checkpoint must end with its data and \"]"));
      }
      const std::string expected =
          internal::NextHash(chain, file.substr(chunk_start, pos + data_offset - chunk_start));
      if (expected != hash) {
        return Err(LineError(line, "checkpoint does not match " + Lines(chunk_first_line, line) +
                                       ": the recording was changed there, or lines were "
                                       "removed or reordered"));
      }
      if (!key.Verify(hash, signature)) {
        return Err(LineError(
            line, "checkpoint signature does not verify with recorder key " + fingerprint));
      }
      chain = hash;
      any = true;
      exit_last = previous_type == kExit;
      result.verified_until = event.time;
      result.verified_bytes = nl + 1;
      chunk_start = nl + 1;
      chunk_first_line = line + 1;
    }
    previous_type = event.type;
    pos = nl + 1;
  }
  if (!any) return Err(DataLoss("no checkpoint: nothing in this recording is signed"));
  result.state = exit_last && result.verified_bytes == file.size() ? Verification::State::kComplete
                                                                   : Verification::State::kCutShort;
  return result;
}

}  // namespace gate::cast
