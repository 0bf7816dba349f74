// Reading recordings: the header, then one event line at a time.
#include <string>

#include "event_line.h"
#include "gate/asciicast.h"

namespace gate::cast {
namespace {

Status LineError(std::size_t line, const Status& s) {
  return DataLoss("line " + std::to_string(line) + ": " + s.message());
}

}  // namespace

Result<Reader> Reader::Create(std::string_view file, Headers headers) {
  if (file.empty()) return Err(DataLoss("line 1: the recording is empty"));
  const std::size_t nl = file.find('\n');
  if (nl == std::string_view::npos) {
    return Err(DataLoss("line 1: the header line is incomplete"));
  }
  const std::string_view line = file.substr(0, nl + 1);
  auto header = headers == Headers::kGateOnly ? ParseHeader(line) : ParseAnyHeader(line);
  if (!header) return Err(LineError(1, header.error()));
  return Reader(file, std::move(*header), nl + 1);
}

Result<bool> Reader::Next(Event* event) {
  const std::size_t nl = file_.find('\n', pos_);
  // A last line without '\n' is what a crash mid-write leaves; not an event.
  if (nl == std::string_view::npos) return false;
  const std::size_t line = line_ + 1;
  if (Status s = internal::ParseEventLine(file_.substr(pos_, nl - pos_), event, nullptr); !s.ok()) {
    return Err(LineError(line, s));
  }
  event->line = line;
  line_ = line;
  pos_ = nl + 1;
  return true;
}

Result<Recording> Parse(std::string_view file) {
  auto reader = Reader::Create(file);
  if (!reader) return Err(reader.error());
  Recording recording;
  recording.header = reader->header();
  for (;;) {
    Event event;
    auto more = reader->Next(&event);
    if (!more) return Err(more.error());
    if (!*more) break;
    recording.events.push_back(std::move(event));
  }
  return recording;
}

}  // namespace gate::cast
