#include <algorithm>
#include <cstdlib>

#include "gate/join_protocol.h"

namespace gate::recorder {
namespace {

std::string TypeName(char type) {
  const auto u = static_cast<unsigned char>(type);
  if (u >= 0x21 && u < 0x7f) return std::string("'") + type + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("0x") + kHex[u >> 4] + kHex[u & 0xf];
}

}  // namespace

bool ValidFrameType(FrameDirection direction, char type) {
  switch (direction) {
    case FrameDirection::kToRecorder:
      return type == 'H' || type == 'I';
    case FrameDirection::kToClient:
      return type == 'A' || type == 'R' || type == 'O' || type == 'M' || type == 'E';
  }
  return false;
}

void AppendFrame(std::string& out, FrameType type, std::string_view payload) {
  if (payload.size() > kMaxFramePayload) std::abort();  // callers split (AppendFrames)
  const auto n = static_cast<std::uint32_t>(payload.size());
  out.reserve(out.size() + kFrameHeaderSize + payload.size());
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>((n >> 24) & 0xff));
  out.push_back(static_cast<char>((n >> 16) & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  out.push_back(static_cast<char>(n & 0xff));
  out.append(payload);
}

void AppendFrames(std::string& out, FrameType type, std::string_view payload) {
  while (!payload.empty()) {
    const std::size_t n = std::min(payload.size(), kMaxFramePayload);
    AppendFrame(out, type, payload.substr(0, n));
    payload.remove_prefix(n);
  }
}

Result<std::optional<Frame>> FrameDecoder::Next() {
  const std::string_view rest = std::string_view(buffer_).substr(consumed_);
  if (rest.empty()) {
    // Reclaim the buffer once everything in it was consumed.
    buffer_.clear();
    consumed_ = 0;
    return std::optional<Frame>();
  }
  // The type is checked as soon as it arrives: a client speaking some other
  // protocol is dropped on its first byte, not after it sent 5.
  if (!ValidFrameType(direction_, rest[0])) {
    return Err(InvalidArgument("unexpected frame type " + TypeName(rest[0])));
  }
  if (rest.size() < kFrameHeaderSize) return std::optional<Frame>();
  const auto byte = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(rest[i]));
  };
  const std::uint32_t length = (byte(1) << 24) | (byte(2) << 16) | (byte(3) << 8) | byte(4);
  if (length > kMaxFramePayload) {
    return Err(InvalidArgument("frame of " + std::to_string(length) + " bytes exceeds the " +
                               std::to_string(kMaxFramePayload) + "-byte limit"));
  }
  if (rest.size() - kFrameHeaderSize < length) return std::optional<Frame>();
  Frame frame;
  frame.type = static_cast<FrameType>(rest[0]);
  frame.payload.assign(rest.substr(kFrameHeaderSize, length));
  consumed_ += kFrameHeaderSize + length;
  // Compact now and then so a long stream of small frames does not grow the
  // buffer without bound.
  if (consumed_ > kMaxFramePayload && consumed_ * 2 > buffer_.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  return std::optional<Frame>(std::move(frame));
}

}  // namespace gate::recorder
