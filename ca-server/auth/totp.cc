#include "ca-server/auth/totp.h"

#include <liboath/oath.h>
#include <openssl/rand.h>

#include <array>
#include <cstdlib>
#include <ctime>

#include "gate/secret.h"

namespace gate::ca {
namespace {

// liboath wants oath_init() before use; it is not documented as thread-safe,
// so a function-local static (initialised exactly once, C++11 [stmt.dcl])
// runs it. We never call oath_done(): the library lives as long as the process.
Status EnsureOathInit() {
  static const int rc = oath_init();
  if (rc != OATH_OK) {
    return Internal(std::string("liboath initialisation failed: ") + oath_strerror(rc));
  }
  return Status::Ok();
}

Status CheckSecretAndTime(const SecretString& secret, std::int64_t now) {
  if (secret.empty()) return FailedPrecondition("no OTP secret enrolled");
  if (now < 0) return InvalidArgument("time must not be before the Unix epoch");
  return EnsureOathInit();
}

bool IsSixDigits(std::string_view code) {
  if (code.size() != static_cast<std::size_t>(kTotpDigits)) return false;
  for (char c : code) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// liboath's strcmp-style callback: 0 on match, positive on mismatch. Using it
// instead of oath_totp_validate2 lets us compare in constant time, so response
// timing does not tell an attacker how many leading digits were right.
int CompareOtp(void* handle, const char* test_otp) {
  const auto* code = static_cast<const std::string_view*>(handle);
  return ConstantTimeEquals(*code, std::string_view(test_otp)) ? 0 : 1;
}

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// RFC 3986 percent-encoding of everything but unreserved characters; the
// label's ':' separator and the query's '&' and '=' must not appear raw in
// an issuer or account name.
std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (IsUnreserved(c)) {
      out.push_back(c);
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0x0F]);
    }
  }
  return out;
}

}  // namespace

Result<SecretString> GenerateTotpSecret() {
  SecretString secret(kTotpSecretBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()),
                 static_cast<int>(secret.size())) != 1) {
    return Err(Internal("random number generator failed"));
  }
  return secret;
}

std::string TotpUri(const SecretString& secret, std::string_view account, std::string_view issuer) {
  if (!EnsureOathInit().ok()) return {};
  char* base32 = nullptr;
  std::size_t base32_len = 0;
  if (oath_base32_encode(secret.data(), secret.size(), &base32, &base32_len) != OATH_OK) {
    return {};
  }
  std::string_view encoded_secret(base32, base32_len);
  // Authenticator apps expect base32 without '=' padding (Google's Key Uri
  // Format); several reject the padded form.
  while (!encoded_secret.empty() && encoded_secret.back() == '=') encoded_secret.remove_suffix(1);

  const std::string enc_issuer = PercentEncode(issuer);
  std::string uri = "otpauth://totp/" + enc_issuer + ":" + PercentEncode(account) +
                    "?secret=" + std::string(encoded_secret) + "&issuer=" + enc_issuer +
                    "&algorithm=SHA1&digits=" + std::to_string(kTotpDigits) +
                    "&period=" + std::to_string(kTotpStepSeconds);
  Wipe(base32, base32_len);
  std::free(base32);
  return uri;
}

Result<std::int64_t> VerifyTotp(const SecretString& secret, std::string_view code, std::int64_t now,
                                int window) {
  if (!IsSixDigits(code)) return Err(InvalidArgument("OTP code must be 6 digits"));
  if (window < 0 || window > kTotpMaxWindow) {
    return Err(
        InvalidArgument("OTP window must be between 0 and " + std::to_string(kTotpMaxWindow)));
  }
  if (Status s = CheckSecretAndTime(secret, now); !s.ok()) return Err(std::move(s));

  int offset = 0;
  const int rc =
      oath_totp_validate2_callback(secret.data(), secret.size(), static_cast<std::time_t>(now),
                                   static_cast<unsigned>(kTotpStepSeconds),
                                   OATH_TOTP_DEFAULT_START_TIME, static_cast<unsigned>(kTotpDigits),
                                   static_cast<std::size_t>(window), &offset, CompareOtp, &code);
  if (rc == OATH_INVALID_OTP) return Err(Unauthenticated("invalid OTP code"));
  if (rc < 0) return Err(Internal(std::string("OTP validation failed: ") + oath_strerror(rc)));
  return now / kTotpStepSeconds + offset;
}

Result<std::string> TotpCode(const SecretString& secret, std::int64_t now) {
  if (Status s = CheckSecretAndTime(secret, now); !s.ok()) return Err(std::move(s));
  std::array<char, kTotpDigits + 1> otp{};
  const int rc =
      oath_totp_generate(secret.data(), secret.size(), static_cast<std::time_t>(now),
                         static_cast<unsigned>(kTotpStepSeconds), OATH_TOTP_DEFAULT_START_TIME,
                         static_cast<unsigned>(kTotpDigits), otp.data());
  if (rc != OATH_OK) {
    return Err(Internal(std::string("OTP generation failed: ") + oath_strerror(rc)));
  }
  return std::string(otp.data(), static_cast<std::size_t>(kTotpDigits));
}

}  // namespace gate::ca
