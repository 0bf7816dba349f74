#include "gate/ssh_wire.h"

#include <cstdlib>
#include <limits>

namespace gate::ssh {

void Writer::PutU8(std::uint8_t v) { buf_.push_back(static_cast<char>(v)); }

void Writer::PutU32(std::uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  buf_.append(b, sizeof b);
}

void Writer::PutU64(std::uint64_t v) {
  PutU32(static_cast<std::uint32_t>(v >> 32));
  PutU32(static_cast<std::uint32_t>(v));
}

void Writer::PutBool(bool v) { PutU8(v ? 1 : 0); }

void Writer::PutString(std::string_view s) {
  // A string that cannot be length-prefixed in 32 bits would be silently
  // truncated on the wire, and nothing gate encodes comes near 4 GiB:
  // reaching this is a bug, so stop rather than emit a corrupt encoding.
  if (s.size() > std::numeric_limits<std::uint32_t>::max()) std::abort();
  PutU32(static_cast<std::uint32_t>(s.size()));
  buf_.append(s);
}

void Writer::PutRaw(std::string_view s) { buf_.append(s); }

Result<std::uint8_t> Reader::GetU8() {
  if (remaining() < 1) return Err(DataLoss("truncated uint8"));
  return static_cast<std::uint8_t>(data_[pos_++]);
}

Result<std::uint32_t> Reader::GetU32() {
  if (remaining() < 4) return Err(DataLoss("truncated uint32"));
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v = (v << 8) | static_cast<unsigned char>(data_[pos_++]);
  }
  return v;
}

Result<std::uint64_t> Reader::GetU64() {
  if (remaining() < 8) return Err(DataLoss("truncated uint64"));
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v = (v << 8) | static_cast<unsigned char>(data_[pos_++]);
  }
  return v;
}

// RFC 4251 section 5: any non-zero value is TRUE.
Result<bool> Reader::GetBool() {
  auto v = GetU8();
  if (!v) return Err(v.error());
  return *v != 0;
}

Result<std::string_view> Reader::GetString(std::size_t max_len) {
  auto len = GetU32();
  if (!len) return Err(DataLoss("truncated string length"));
  // Checked before the remaining-bytes test so that an absurd length is
  // reported as such even when the input is also short.
  if (*len > max_len) {
    return Err(InvalidArgument("string too long (" + std::to_string(*len) + " bytes, limit " +
                               std::to_string(max_len) + ")"));
  }
  if (*len > remaining()) return Err(DataLoss("truncated string"));
  std::string_view s = data_.substr(pos_, *len);
  pos_ += *len;
  return s;
}

Status Reader::ExpectEnd() const {
  if (!empty()) {
    return InvalidArgument("trailing data (" + std::to_string(remaining()) + " bytes)");
  }
  return Status::Ok();
}

}  // namespace gate::ssh
