#include "recorder/join/output_ring.h"

namespace gate::recorder {

void OutputRing::Append(std::string_view bytes) {
  end_ += bytes.size();
  if (capacity_ == 0) return;
  buffer_.append(bytes);
  // Trimming only once the buffer doubled keeps the copy cost per byte
  // constant instead of moving the whole window on every append. One byte
  // more than the window is kept: it tells whether the window starts a line.
  if (buffer_.size() > 2 * capacity_) {
    buffer_.erase(0, buffer_.size() - (capacity_ + 1));
    dropped_ = true;
  }
}

std::string_view OutputRing::Replay() const {
  const std::size_t start = buffer_.size() > capacity_ ? buffer_.size() - capacity_ : 0;
  if (start == 0 && !dropped_) return buffer_;
  // A line starts right after a '\n'; the byte just before the window, when
  // still held, may be one.
  const std::size_t newline = buffer_.find('\n', start == 0 ? 0 : start - 1);
  if (newline == std::string::npos) return {};
  return std::string_view(buffer_).substr(newline + 1);
}

std::optional<std::string_view> OutputRing::From(std::uint64_t offset) const {
  const std::uint64_t held_from = end_ - buffer_.size();
  if (offset < held_from || offset > end_) return std::nullopt;
  return std::string_view(buffer_).substr(static_cast<std::size_t>(offset - held_from));
}

}  // namespace gate::recorder
