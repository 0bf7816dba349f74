#include "ca-server/auth/password.h"

#include <argon2.h>
#include <openssl/rand.h>

#include <array>
#include <optional>
#include <vector>

namespace gate::ca {
namespace {

// Longest encoded hash VerifyPassword will look at. Ours are ~100 bytes; the
// cap keeps a corrupt row from handing libargon2 an unbounded string.
constexpr std::size_t kMaxEncodedBytes = 512;
constexpr std::string_view kArgon2idPrefix = "$argon2id$";

Result<std::string> HashWithSalt(std::string_view password, const unsigned char* salt) {
  const std::size_t encoded_len =
      argon2_encodedlen(kArgon2TimeCost, kArgon2MemoryKiB, kArgon2Parallelism, kArgon2SaltBytes,
                        kArgon2HashBytes, Argon2_id);
  std::vector<char> encoded(encoded_len + 1, '\0');
  const int rc = argon2id_hash_encoded(kArgon2TimeCost, kArgon2MemoryKiB, kArgon2Parallelism,
                                       password.data(), password.size(), salt, kArgon2SaltBytes,
                                       kArgon2HashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    return Err(Internal(std::string("argon2id hashing failed: ") + argon2_error_message(rc)));
  }
  return std::string(encoded.data());
}

// The dummy hash BurnPasswordVerification checks against. Its salt is fixed:
// it protects nothing, it only has to cost what a real verification costs.
const std::optional<std::string>& DummyHash() {
  static const std::optional<std::string> dummy = []() -> std::optional<std::string> {
    static constexpr unsigned char kSalt[kArgon2SaltBytes] = {
        'g', 'a', 't', 'e', '-', 'd', 'u', 'm', 'm', 'y', '-', 's', 'a', 'l', 't', '!'};
    Result<std::string> hash = HashWithSalt("gate dummy password", kSalt);
    if (!hash) return std::nullopt;
    return *std::move(hash);
  }();
  return dummy;
}

// Decodes one UTF-8 sequence at text[*pos], advancing *pos. Rejects overlong
// forms, surrogates and values above U+10FFFF (RFC 3629), so one character
// cannot be spelt several ways to game the length rule.
std::optional<char32_t> NextCodePoint(std::string_view text, std::size_t* pos) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(*pos);
  std::size_t extra = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if (lead < 0x80) {
    ++*pos;
    return lead;
  } else if ((lead & 0xE0) == 0xC0) {
    extra = 1;
    cp = lead & 0x1Fu;
    min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    extra = 2;
    cp = lead & 0x0Fu;
    min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    extra = 3;
    cp = lead & 0x07u;
    min = 0x10000;
  } else {
    return std::nullopt;
  }
  if (text.size() - *pos <= extra) return std::nullopt;
  for (std::size_t i = 1; i <= extra; ++i) {
    const unsigned char c = byte(*pos + i);
    if ((c & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (c & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  *pos += extra + 1;
  return cp;
}

bool IsControl(char32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

}  // namespace

Result<std::string> HashPassword(std::string_view password) {
  if (password.size() > kMaxPasswordBytes) {
    return Err(InvalidArgument("password must be at most " + std::to_string(kMaxPasswordBytes) +
                               " bytes"));
  }
  std::array<unsigned char, kArgon2SaltBytes> salt{};
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    return Err(Internal("random number generator failed"));
  }
  return HashWithSalt(password, salt.data());
}

bool VerifyPassword(std::string_view encoded, std::string_view password) {
  if (encoded.size() > kMaxEncodedBytes || password.size() > kMaxPasswordBytes) return false;
  if (encoded.substr(0, kArgon2idPrefix.size()) != kArgon2idPrefix) return false;
  if (encoded.find('\0') != std::string_view::npos) return false;
  const std::string encoded_z(encoded);  // libargon2 wants a C string
  return argon2id_verify(encoded_z.c_str(), password.data(), password.size()) == ARGON2_OK;
}

void BurnPasswordVerification(std::string_view password) {
  const std::optional<std::string>& dummy = DummyHash();
  if (dummy.has_value()) {
    // The result is meaningless; only the time spent matters.
    static_cast<void>(VerifyPassword(*dummy, password));
  }
}

Status CheckPasswordPolicy(std::string_view password, int min_length) {
  if (password.size() > kMaxPasswordBytes) {
    return InvalidArgument("password must be at most " + std::to_string(kMaxPasswordBytes) +
                           " bytes");
  }
  std::size_t count = 0;
  for (std::size_t pos = 0; pos < password.size();) {
    const std::optional<char32_t> cp = NextCodePoint(password, &pos);
    if (!cp.has_value()) return InvalidArgument("password must be valid UTF-8");
    if (IsControl(*cp)) return InvalidArgument("password must not contain control characters");
    ++count;
  }
  if (min_length > 0 && count < static_cast<std::size_t>(min_length)) {
    return InvalidArgument("password must be at least " + std::to_string(min_length) +
                           " characters");
  }
  return Status::Ok();
}

}  // namespace gate::ca
