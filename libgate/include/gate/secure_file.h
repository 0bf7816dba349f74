// Opening secret and config files safely, and writing files atomically.
//
// Reads follow pam-u2f's discipline: O_NOFOLLOW|O_CLOEXEC, then fstat on the
// open descriptor (no TOCTOU): a regular file, owned by an allowed uid, not
// writable by group or others, and, for secrets, not readable by them either.
#ifndef GATE_SECURE_FILE_H_
#define GATE_SECURE_FILE_H_

#include <sys/types.h>

#include <optional>
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
  // Non-secrets only: when false, others (neither the owner nor the file's
  // group) must not read it either (mode & 007 == 0), for files only one
  // group of readers may see (the node's policy cache).
  bool others_may_read = true;
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

// What CheckSafePath and CheckSafeDir demand, beyond "owned by owner and not
// writable by group or others". Every check in gate that decides whether a
// file or directory can be trusted goes through these two functions, so the
// rule and its messages exist once.
struct SafePathOptions {
  // How symbolic links on the path are treated.
  enum class Links {
    // lstat every component; a link anywhere from top down is refused. For
    // files whose exact location matters (settings of a setuid program).
    kRefuse,
    // realpath first, then check the resolved file and its directories with
    // lstat: OpenSSH's safe_path(), for programs sshd itself will check.
    kResolve,
  };
  Links links = Links::kRefuse;
  enum class Type { kRegularFile, kDirectory };
  Type type = Type::kRegularFile;
  // CheckSafePath walks the directories above the path up to and including
  // top (after resolving it); the path must lie under top.
  std::string top = "/";
  // Owners accepted for the file or directory itself besides `owner` (e.g.
  // root, or a service user for its own binary). Directories above it must be
  // owned by `owner`.
  std::vector<uid_t> also_owned_by;
  // Permission bits the file or directory itself must not have: 022 (not
  // writable by group/others), 027 (only its group may also read) or 077
  // (private).
  mode_t forbidden_bits = 022;
  // When set, the file or directory itself must belong to this group (the
  // one group forbidden_bits lets in).
  std::optional<gid_t> group;
  // Permission bits it must have (0001: others may execute it).
  mode_t required_bits = 0;
  // Bits every directory walked must have (0001: others may search it).
  mode_t dir_required_bits = 0;
  // How messages name the subject ("recorder settings", "cache directory");
  // "" names it by its path only.
  std::string subject;
  // Why it matters, appended to refusals in parentheses: the admin reading
  // the log learns what breaks and whom the rule protects.
  std::string consequence;
};

// Checks that path is safe to trust: an absolute path to a regular file (or
// a directory, per options.type) owned by owner (or options.also_owned_by),
// without options.forbidden_bits, with options.required_bits, under
// options.top, and every directory from its parent up to top owned by owner,
// not writable by group/others, with options.dir_required_bits.
// Errors (one mapping for every caller; messages name the component and
// say how to fix it, e.g. "run: chmod go-w /etc/gate"):
//   InvalidArgument   path is not absolute
//   NotFound          path (or top) does not exist
//   PermissionDenied  unsafe: symlink (kRefuse), wrong type, owner or mode,
//                     outside top
//   Unavailable       stat failed otherwise
// The check is a snapshot: callers then open the file O_NOFOLLOW and check
// the descriptor (OpenSecureFile), which the walk made race-free because
// only trusted owners can change anything on the path.
Status CheckSafePath(const std::string& path, uid_t owner, const SafePathOptions& options = {});

// Checks one directory, through a descriptor opened O_DIRECTORY|O_NOFOLLOW
// (so a symlink is refused, not followed): owned by owner (or
// options.also_owned_by), without options.forbidden_bits. The parents are
// not walked (use CheckSafePath with Type::kDirectory for that); options.type
// and top are ignored. Errors as CheckSafePath.
Status CheckSafeDir(const std::string& dir, uid_t owner, const SafePathOptions& options = {});

// The directory part of path: "." when it has none, "/" for "/x".
std::string DirName(const std::string& path);

// CheckSafeDir on a directory the caller holds open as fd (named dir in
// messages): for code that keeps working through that descriptor.
Status CheckSafeDirFd(int fd, const std::string& dir, uid_t owner,
                      const SafePathOptions& options = {});

}  // namespace gate

#endif  // GATE_SECURE_FILE_H_
