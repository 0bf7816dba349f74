// The SSH wire encoding (RFC 4251 section 5): uint32/uint64 big-endian,
// length-prefixed strings. Pure functions over bytes; every read is bounded
// by the remaining input and by an explicit cap, so hostile input can make a
// read fail but never over-read or over-allocate.
#ifndef GATE_SSH_WIRE_H_
#define GATE_SSH_WIRE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "gate/status.h"

namespace gate::ssh {

// Largest string a Reader accepts unless told otherwise (certificates are a
// few hundred bytes; 64 KiB leaves room and stays small).
inline constexpr std::size_t kMaxStringLength = 64 * 1024;

class Writer {
 public:
  void PutU8(std::uint8_t v);
  void PutU32(std::uint32_t v);
  void PutU64(std::uint64_t v);
  void PutBool(bool v);
  void PutString(std::string_view s);  // uint32 length + bytes
  void PutRaw(std::string_view s);     // bytes, no length
  const std::string& data() const { return buf_; }
  std::string Take() { return std::move(buf_); }

 private:
  std::string buf_;
};

// Reads from a view it does not own; the underlying bytes must outlive it.
// On failure a getter returns DataLoss ("truncated ...") or InvalidArgument
// ("string too long") and the reader's position is unspecified.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  Result<std::uint8_t> GetU8();
  Result<std::uint32_t> GetU32();
  Result<std::uint64_t> GetU64();
  Result<bool> GetBool();
  Result<std::string_view> GetString(std::size_t max_len = kMaxStringLength);
  std::size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return remaining() == 0; }
  // OK if everything was consumed, else InvalidArgument("trailing data ...").
  Status ExpectEnd() const;

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

}  // namespace gate::ssh

#endif  // GATE_SSH_WIRE_H_
