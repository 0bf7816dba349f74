// A growing byte buffer for the writer's hot path. Unlike std::string it
// does not zero-fill what it reserves: the escaper reserves the worst case
// (6 bytes per input byte) and commits what it actually wrote, and zeroing
// that reservation cost more than the escaping itself.
#ifndef GATE_LIBGATE_SRC_CAST_BUFFER_H_
#define GATE_LIBGATE_SRC_CAST_BUFFER_H_

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace gate::cast::internal {

class Buffer {
 public:
  // A pointer to at least n writable bytes at the end; follow with Commit.
  char* Reserve(std::size_t n) {
    if (capacity_ - size_ < n) Grow(n);
    return data_.get() + size_;
  }
  // Marks n bytes written at the pointer Reserve returned as part of the buffer.
  void Commit(std::size_t n) { size_ += n; }
  void Append(std::string_view s) {
    std::memcpy(Reserve(s.size()), s.data(), s.size());
    Commit(s.size());
  }
  void Clear() { size_ = 0; }
  // Drops everything after the first n bytes (n <= size()).
  void Truncate(std::size_t n) { size_ = n < size_ ? n : size_; }
  // Drops the capacity too (after a burst, so a quiet session holds no memory).
  void Release() {
    data_.reset();
    size_ = capacity_ = 0;
  }

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }
  std::string_view view() const { return {data_.get(), size_}; }

 private:
  void Grow(std::size_t n) {
    std::size_t cap = capacity_ == 0 ? 64 * 1024 : capacity_ * 2;
    while (cap - size_ < n) cap *= 2;
    auto bigger = std::make_unique_for_overwrite<char[]>(cap);
    if (size_ > 0) std::memcpy(bigger.get(), data_.get(), size_);
    data_ = std::move(bigger);
    capacity_ = cap;
  }

  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace gate::cast::internal

#endif  // GATE_LIBGATE_SRC_CAST_BUFFER_H_
