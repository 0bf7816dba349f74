// The pam_gate authfile: per-user second factors for hosts that verify
// locally (pam_gate.so source=local, and every U2F/FIDO2 key). Written by
// `gate mfa add --local`, read by pam_gate.so. One entry per line:
//
//   # comments and blank lines are ignored
//   USER:totp:ALGORITHM:DIGITS:SECRET
//       ALGORITHM sha1|sha256, DIGITS 6|8, SECRET base32 (RFC 4648, no padding)
//       alice:totp:sha1:6:JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
//   USER:fido2:RPID:CREDENTIAL_ID:PUBLIC_KEY:COSE_ALG
//       CREDENTIAL_ID and PUBLIC_KEY base64; COSE_ALG es256|eddsa; PUBLIC_KEY
//       is the raw EC point (65 bytes, 0x04||X||Y) or Ed25519 key (32 bytes)
//       alice:fido2:pam://host1:AbCd...:BPq3...:es256
//
// A user may have several lines (several keys). The file holds secrets: it
// must be owned by root (system file) or by the user (per-user file), and
// not accessible by group or others; readers open it with gate::OpenSecureFile.
#ifndef GATE_AUTHFILE_H_
#define GATE_AUTHFILE_H_

#include <string>
#include <string_view>
#include <vector>

#include "gate/secret.h"
#include "gate/status.h"

namespace gate::authfile {

enum class Kind { kTotp, kFido2 };

struct TotpEntry {
  std::string algorithm = "sha1";  // sha1 | sha256
  int digits = 6;                  // 6 | 8
  SecretString secret;             // raw bytes (decoded from base32)
};

struct Fido2Entry {
  std::string rp_id;
  std::string credential_id;  // raw bytes
  std::string public_key;     // raw bytes, as above
  std::string cose_alg;       // es256 | eddsa
};

struct Entry {
  std::string user;
  Kind kind = Kind::kTotp;
  TotpEntry totp;
  Fido2Entry fido2;
};

// Parses the whole file. A malformed line is an error naming its line number
// (InvalidArgument "authfile:3: ..."), never skipped: a typo must not silently
// drop a user's factor (which nullok would then turn into a pass).
Result<std::vector<Entry>> Parse(std::string_view text);

// The entries of one user, of one kind.
std::vector<Entry> ForUser(const std::vector<Entry>& entries, std::string_view user, Kind kind);

// One line (with trailing newline) for entry, as Parse reads it.
SecretString Format(const Entry& entry);

}  // namespace gate::authfile

#endif  // GATE_AUTHFILE_H_
