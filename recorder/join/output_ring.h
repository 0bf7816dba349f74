// The recent output of a session, kept so that a joiner's first screen is
// not empty: the last `capacity` bytes, replayed from a line start.
#ifndef GATE_RECORDER_JOIN_OUTPUT_RING_H_
#define GATE_RECORDER_JOIN_OUTPUT_RING_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gate::recorder {

inline constexpr std::size_t kDefaultReplayBytes = 256 * 1024;

class OutputRing {
 public:
  explicit OutputRing(std::size_t capacity = kDefaultReplayBytes) : capacity_(capacity) {}

  // Amortized O(bytes): the session's hot path calls this for every read.
  void Append(std::string_view bytes);

  // What a new joiner is sent first. Everything since the session started if
  // that is still held; otherwise the held bytes after their first '\n', so
  // the replay never starts inside a line (and so never inside an escape
  // sequence or a UTF-8 character cut off by the window); empty if the held
  // bytes have no newline. No terminal reset is sent: the joiner's terminal
  // is only written to, never queried or reset.
  std::string_view Replay() const;

  // Bytes appended since the start: the offset just past the last byte.
  std::uint64_t end() const { return end_; }
  // The held bytes from the absolute offset (counted from the session's
  // start) to end(); nullopt if offset is no longer held or lies past end().
  // Valid until the next Append.
  std::optional<std::string_view> From(std::uint64_t offset) const;

 private:
  std::size_t capacity_;
  // Holds up to 2 * capacity_ bytes; the window is the last capacity_ of
  // them, and the byte before it tells whether the window starts a line.
  std::string buffer_;
  bool dropped_ = false;  // bytes from the session's start were discarded
  std::uint64_t end_ = 0;
};

}  // namespace gate::recorder

#endif  // GATE_RECORDER_JOIN_OUTPUT_RING_H_
