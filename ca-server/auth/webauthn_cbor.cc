// The attestation object's outer CBOR map (webauthn.h
// SplitAttestationObject): a reader of definite-length CBOR (RFC 8949) that
// only measures items, so it can hand libfido2 the attStmt map's raw bytes.
#include <cstdint>
#include <optional>
#include <string>

#include "ca-server/auth/webauthn.h"

namespace gate::ca::webauthn {
namespace {

constexpr int kMaxDepth = 16;

enum Major : std::uint8_t {
  kUnsigned = 0,
  kNegative = 1,
  kByteString = 2,
  kTextString = 3,
  kArray = 4,
  kMap = 5,
  kTag = 6,
  kSimple = 7
};

// A cursor over the input; every read is bounds-checked.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  std::size_t pos() const { return pos_; }
  bool at_end() const { return pos_ == in_.size(); }
  std::string_view Slice(std::size_t from, std::size_t to) const {
    return in_.substr(from, to - from);
  }

  // The head of the next item: its major type and argument. nullopt on
  // truncation, reserved values or indefinite lengths (CTAP2's canonical
  // encoding never uses them).
  std::optional<std::pair<Major, std::uint64_t>> Head() {
    if (pos_ >= in_.size()) return std::nullopt;
    const auto initial = static_cast<std::uint8_t>(in_[pos_++]);
    const auto major = static_cast<Major>(initial >> 5);
    const std::uint8_t info = initial & 0x1f;
    if (info < 24) return std::pair{major, std::uint64_t{info}};
    if (info > 27) return std::nullopt;
    const std::size_t n = std::size_t{1} << (info - 24);
    if (in_.size() - pos_ < n) return std::nullopt;
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < n; ++i)
      value = (value << 8) | static_cast<std::uint8_t>(in_[pos_++]);
    return std::pair{major, value};
  }

  // Skips n bytes of payload; false if fewer remain.
  bool Skip(std::uint64_t n) {
    if (in_.size() - pos_ < n) return false;
    pos_ += static_cast<std::size_t>(n);
    return true;
  }

  // Skips one whole item; false if it is malformed or nests too deep.
  bool SkipItem(int depth) {
    if (depth > kMaxDepth) return false;
    auto head = Head();
    if (!head) return false;
    auto [major, arg] = *head;
    switch (major) {
      case kUnsigned:
      case kNegative:
        return true;
      case kByteString:
      case kTextString:
        return Skip(arg);
      case kArray:
      case kMap: {
        // Each member takes at least one byte: a count beyond what is left
        // is malformed, and the loop stays bounded by the input's size.
        const std::uint64_t items = major == kMap ? arg * 2 : arg;
        if ((major == kMap && arg > in_.size()) || items > in_.size() - pos_) return false;
        for (std::uint64_t i = 0; i < items; ++i) {
          if (!SkipItem(depth + 1)) return false;
        }
        return true;
      }
      case kTag:
        return SkipItem(depth + 1);
      case kSimple:
        // The argument was the value (simple) or the float's bytes.
        return true;
    }
    return false;
  }

  // Reads a text or byte string's payload.
  std::optional<std::string_view> String(Major want) {
    auto head = Head();
    if (!head || head->first != want) return std::nullopt;
    const std::size_t start = pos_;
    if (!Skip(head->second)) return std::nullopt;
    return in_.substr(start, pos_ - start);
  }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace

Status CheckCborItems(std::string_view bytes) {
  Reader reader(bytes);
  while (!reader.at_end()) {
    if (!reader.SkipItem(1)) return InvalidArgument("malformed CBOR in authenticatorData");
  }
  return Status::Ok();
}

Result<AttestationParts> SplitAttestationObject(std::string_view cbor) {
  if (cbor.size() > kMaxAttestationObject) {
    return Err(InvalidArgument("attestationObject is larger than 16384 bytes"));
  }
  const Status malformed = InvalidArgument("attestationObject is not well-formed CBOR");
  Reader reader(cbor);
  auto head = reader.Head();
  if (!head || head->first != kMap) {
    return Err(InvalidArgument("attestationObject is not a CBOR map"));
  }
  if (head->second > cbor.size()) return Err(malformed);
  std::optional<std::string> fmt;
  std::optional<std::string_view> att_stmt, auth_data;
  for (std::uint64_t i = 0; i < head->second; ++i) {
    std::optional<std::string_view> key = reader.String(kTextString);
    if (!key) return Err(InvalidArgument("attestationObject has a key that is not text"));
    const std::size_t value_start = reader.pos();
    if (*key == "fmt") {
      std::optional<std::string_view> value = reader.String(kTextString);
      if (!value || fmt) return Err(InvalidArgument("attestationObject fmt is not one text"));
      fmt = std::string(*value);
    } else if (*key == "authData") {
      std::optional<std::string_view> value = reader.String(kByteString);
      if (!value || auth_data) {
        return Err(InvalidArgument("attestationObject authData is not one byte string"));
      }
      auth_data = value;
    } else if (*key == "attStmt") {
      auto stmt_head = Reader(cbor.substr(value_start)).Head();
      if (!stmt_head || stmt_head->first != kMap || att_stmt || !reader.SkipItem(1)) {
        return Err(InvalidArgument("attestationObject attStmt is not one CBOR map"));
      }
      att_stmt = reader.Slice(value_start, reader.pos());
    } else if (!reader.SkipItem(1)) {
      return Err(malformed);
    }
  }
  if (!reader.at_end()) return Err(InvalidArgument("attestationObject has trailing bytes"));
  if (!fmt || !att_stmt || !auth_data) {
    return Err(InvalidArgument("attestationObject lacks fmt, attStmt or authData"));
  }
  return AttestationParts{*std::move(fmt), *att_stmt, *auth_data};
}

}  // namespace gate::ca::webauthn
