// Opening secret and config files safely, and writing files atomically.
//
// Reads follow pam-u2f's discipline: O_NOFOLLOW|O_CLOEXEC, then fstat on the
// open descriptor (no TOCTOU): a regular file, owned by an allowed uid, not
// writable by group or others, and, for secrets, not readable by them either.
#ifndef GATE_SECURE_FILE_H_
#define GATE_SECURE_FILE_H_

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "gate/secret.h"
#include "gate/status.h"
#include "gate/unique_fd.h"

namespace gate {

struct FilePolicy {
  // Owners accepted. Empty means "the effective uid of this process".
  std::vector<uid_t> allowed_owners;
  // Secrets must not be readable by group/others (mode & 077 == 0).
  // Non-secrets must still not be writable by group/others (mode & 022 == 0).
  bool secret = true;
  // Refuse files larger than this (DataLoss? no: InvalidArgument "too large").
  std::size_t max_size = 1 << 20;
};

// Opens path read-only under policy. Errors (all name the path):
//   NotFound            the file does not exist
//   PermissionDenied    symlink, not a regular file, wrong owner, bad mode
//                       (message says which and how to fix, e.g. "chmod 600 PATH")
//   Unavailable/Internal other I/O failure
Result<UniqueFd> OpenSecureFile(const std::string& path, const FilePolicy& policy);

// OpenSecureFile, then read it whole (bounded by policy.max_size).
Result<SecretString> ReadSecureFile(const std::string& path, const FilePolicy& policy);

// Reads a small ordinary file (no ownership policy), bounded by max_size.
Result<std::string> ReadFile(const std::string& path, std::size_t max_size = 1 << 20);

// "0644": a file mode's permission bits, for error messages.
std::string OctalMode(mode_t mode);

// Writes data to path atomically: a temp file in the same directory created
// O_EXCL with `mode`, write, fsync, rename over path, fsync the directory.
// On any failure the temp file is removed and path is untouched.
Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode);

// Creates dir (and parents) if missing with `mode`; then checks it is a
// directory owned by this euid and not accessible beyond `mode`
// (PermissionDenied otherwise, with the fix in the message).
Status EnsurePrivateDir(const std::string& dir, mode_t mode = 0700);

}  // namespace gate

#endif  // GATE_SECURE_FILE_H_
