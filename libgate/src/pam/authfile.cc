#include "gate/authfile.h"

#include <liboath/oath.h>

#include <cstdlib>
#include <string>

#include "gate/bytes.h"
#include "gate/names.h"
#include "gate/secret.h"

namespace gate::authfile {
namespace {

// RFC 4226 asks for at least 128 bits and allows 80; 80 is what every
// authenticator app's QR code carries at minimum. 64 bytes covers SHA-256
// keys of full block size with room to spare.
constexpr std::size_t kMinSecretBytes = 10;
constexpr std::size_t kMaxSecretBytes = 64;
constexpr std::size_t kMaxCredentialIdBytes = 1024;
constexpr std::size_t kMaxRpIdBytes = 253;  // a DNS name, or pam://<name>

// Frees and wipes a buffer liboath malloc'ed for us (it may hold a secret).
struct OathBuffer {
  char* data = nullptr;
  std::size_t size = 0;
  ~OathBuffer() {
    if (data != nullptr) {
      Wipe(data, size);
      std::free(data);
    }
  }
};

Status LineError(std::size_t line_no, const std::string& what) {
  return InvalidArgument("authfile:" + std::to_string(line_no) + ": " + what);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Strict RFC 4648 base32 without padding: upper-case A-Z and 2-7 only, so a
// secret has exactly one spelling in the file. liboath does the decoding.
Result<SecretString> DecodeSecret(std::string_view text) {
  if (text.empty()) return Err(InvalidArgument("empty secret"));
  for (char c : text) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'))) {
      // Never echo the secret (or a character of it) into a message.
      return Err(InvalidArgument("secret is not upper-case base32 (A-Z, 2-7, no padding)"));
    }
  }
  // Lengths 1, 3 and 6 mod 8 cannot come from whole bytes.
  const std::size_t rem = text.size() % 8;
  if (rem == 1 || rem == 3 || rem == 6) {
    return Err(InvalidArgument("secret has an impossible base32 length"));
  }
  SecretString padded(text);
  padded.append((8 - rem) % 8, '=');
  OathBuffer out;
  if (oath_base32_decode(padded.data(), padded.size(), &out.data, &out.size) != OATH_OK) {
    return Err(InvalidArgument("secret is not valid base32"));
  }
  if (out.size < kMinSecretBytes) {
    return Err(InvalidArgument("secret is shorter than 80 bits (16 base32 characters)"));
  }
  if (out.size > kMaxSecretBytes) return Err(InvalidArgument("secret is longer than 64 bytes"));
  return SecretString(out.data, out.size);
}

Result<std::string> DecodeBase64Field(std::string_view text, std::string_view name) {
  auto raw = Base64Decode(text);
  if (!raw || raw->empty()) {
    return Err(InvalidArgument(std::string(name) + " is not valid base64"));
  }
  return *raw;
}

Status ParseTotp(std::string_view rest, TotpEntry* out) {
  // ALGORITHM:DIGITS:SECRET
  const std::size_t c1 = rest.find(':');
  const std::size_t c2 = c1 == std::string_view::npos ? c1 : rest.find(':', c1 + 1);
  if (c2 == std::string_view::npos || rest.find(':', c2 + 1) != std::string_view::npos) {
    return InvalidArgument("a totp line has 5 fields: USER:totp:ALGORITHM:DIGITS:SECRET");
  }
  const std::string_view algorithm = rest.substr(0, c1);
  const std::string_view digits = rest.substr(c1 + 1, c2 - c1 - 1);
  if (algorithm != "sha1" && algorithm != "sha256") {
    return InvalidArgument("unknown algorithm '" + std::string(algorithm) +
                           "' (expected sha1 or sha256)");
  }
  if (digits != "6" && digits != "8") {
    return InvalidArgument("digits must be 6 or 8, not '" + std::string(digits) + "'");
  }
  auto secret = DecodeSecret(rest.substr(c2 + 1));
  if (!secret) return secret.error();
  out->algorithm = std::string(algorithm);
  out->digits = digits == "6" ? 6 : 8;
  out->secret = std::move(*secret);
  return Status::Ok();
}

Status ParseFido2(std::string_view rest, Fido2Entry* out) {
  // RPID:CREDENTIAL_ID:PUBLIC_KEY:COSE_ALG. The RP id may itself contain ':'
  // ("pam://host1"); base64 never does, so split the last three from the right.
  const std::size_t c3 = rest.rfind(':');
  const std::size_t c2 =
      c3 == std::string_view::npos || c3 == 0 ? std::string_view::npos : rest.rfind(':', c3 - 1);
  const std::size_t c1 =
      c2 == std::string_view::npos || c2 == 0 ? std::string_view::npos : rest.rfind(':', c2 - 1);
  if (c1 == std::string_view::npos) {
    return InvalidArgument(
        "a fido2 line has 6 fields: USER:fido2:RPID:CREDENTIAL_ID:PUBLIC_KEY:COSE_ALG");
  }
  const std::string_view rp_id = rest.substr(0, c1);
  const std::string_view alg = rest.substr(c3 + 1);
  if (rp_id.empty() || rp_id.size() > kMaxRpIdBytes) {
    return InvalidArgument("RP id must be 1-253 characters");
  }
  if (alg != "es256" && alg != "eddsa") {
    return InvalidArgument("unknown COSE algorithm '" + std::string(alg) +
                           "' (expected es256 or eddsa)");
  }
  auto cred = DecodeBase64Field(rest.substr(c1 + 1, c2 - c1 - 1), "credential id");
  if (!cred) return cred.error();
  if (cred->size() > kMaxCredentialIdBytes) {
    return InvalidArgument("credential id is longer than 1024 bytes");
  }
  auto key = DecodeBase64Field(rest.substr(c2 + 1, c3 - c2 - 1), "public key");
  if (!key) return key.error();
  if (alg == "es256" && (key->size() != 65 || (*key)[0] != '\x04')) {
    return InvalidArgument("es256 public key must be an uncompressed P-256 point (65 bytes)");
  }
  if (alg == "eddsa" && key->size() != 32) {
    return InvalidArgument("eddsa public key must be 32 bytes");
  }
  out->rp_id = std::string(rp_id);
  out->credential_id = std::move(*cred);
  out->public_key = std::move(*key);
  out->cose_alg = std::string(alg);
  return Status::Ok();
}

}  // namespace

Result<std::vector<Entry>> Parse(std::string_view text) {
  std::vector<Entry> entries;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const std::size_t nl = text.find('\n');
    const std::string_view raw = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);

    const std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#') continue;
    if (line.find('\0') != std::string_view::npos) {
      return Err(LineError(line_no, "contains a NUL byte"));
    }

    const std::size_t c1 = line.find(':');
    const std::size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) {
      return Err(LineError(line_no, "expected USER:totp:... or USER:fido2:..."));
    }
    Entry entry;
    entry.user = std::string(line.substr(0, c1));
    if (Status s = ValidateUserName(entry.user); !s.ok()) {
      return Err(LineError(line_no, "bad user name: " + s.message()));
    }
    const std::string_view kind = line.substr(c1 + 1, c2 - c1 - 1);
    const std::string_view rest = line.substr(c2 + 1);
    Status s;
    if (kind == "totp") {
      entry.kind = Kind::kTotp;
      s = ParseTotp(rest, &entry.totp);
    } else if (kind == "fido2") {
      entry.kind = Kind::kFido2;
      s = ParseFido2(rest, &entry.fido2);
    } else {
      s = InvalidArgument("unknown kind '" + std::string(kind) + "' (expected totp or fido2)");
    }
    if (!s.ok()) return Err(LineError(line_no, s.message()));
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::vector<Entry> ForUser(const std::vector<Entry>& entries, std::string_view user, Kind kind) {
  std::vector<Entry> out;
  for (const Entry& e : entries) {
    if (e.user == user && e.kind == kind) out.push_back(e);
  }
  return out;
}

SecretString Format(const Entry& entry) {
  SecretString line(entry.user);
  if (entry.kind == Kind::kTotp) {
    OathBuffer b32;
    if (oath_base32_encode(entry.totp.secret.data(), entry.totp.secret.size(), &b32.data,
                           &b32.size) != OATH_OK) {
      return {};  // only on allocation failure; an empty line never parses as an entry
    }
    std::size_t len = b32.size;
    while (len > 0 && b32.data[len - 1] == '=') --len;
    line += ":totp:";
    line += entry.totp.algorithm;
    line += ':';
    line += std::to_string(entry.totp.digits);
    line += ':';
    line.append(b32.data, len);
  } else {
    line += ":fido2:";
    line += entry.fido2.rp_id;
    line += ':';
    line += Base64Encode(entry.fido2.credential_id);
    line += ':';
    line += Base64Encode(entry.fido2.public_key);
    line += ':';
    line += entry.fido2.cose_alg;
  }
  line += '\n';
  return line;
}

}  // namespace gate::authfile
