// The recorder's files that belong to the recorder user (docs/recording.md,
// "Files and users"): its directories, its signing key, and the setuid
// recorder binary. `gate-node record on` runs these as root; each is
// idempotent, and each refuses (rather than repairs) anything that suggests
// someone else had access: a key that is not the recorder user's own 0600
// file, a directory or binary owned by a third user.
#ifndef GATE_SSHD_HOOKS_NODE_RECORDER_FILES_H_
#define GATE_SSHD_HOOKS_NODE_RECORDER_FILES_H_

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "gate/ed25519.h"
#include "gate/env.h"
#include "gate/status.h"

namespace gate::hooks {

// Creates dir if missing (missing parents as root 0755; every directory
// created is appended to *created, parents first), then makes it owned by
// uid:gid with `mode`. An existing dir owned by root or uid is adjusted; a
// symlink, a non-directory or a dir owned by anyone else is
// PermissionDenied naming it. Its contents are not touched.
Status EnsureOwnedDir(const std::string& dir, uid_t uid, gid_t gid, mode_t mode,
                      std::vector<std::string>* created);

// WriteFileAtomicIn (gate/env.h) for a file another user owns, through env:
// the temp file is created O_EXCL|O_NOFOLLOW in path's directory with mode
// 0600, chowned to uid:gid and chmodded to `mode` before any data is
// written, fsynced, then renamed over path and the directory fsynced. On
// failure (full disk, I/O error, failed fsync, refused chown) the temp file
// is removed, nothing changed at path, and the error names the file and the
// system error.
Status WriteOwnedFileAtomic(const std::string& path, std::string_view data, mode_t mode, uid_t uid,
                            gid_t gid, Env* env = Env::Default());

struct RecorderKey {
  ssh::Ed25519PublicKey public_key;
  bool created = false;
};

// The recorder's signing key at path (OpenSSH private key format). An
// existing file is kept if it is a regular file (not a symlink) owned by
// uid with no group/other permission bits, and holds an unencrypted
// Ed25519 key; otherwise FailedPrecondition explaining what is wrong and
// that the file was left alone (the admin removes it to get a new key, or
// fixes it). A missing file is generated (owned uid:gid, 0600, comment
// `comment`, through WriteOwnedFileAtomic with env: on failure no key file
// is left). The directory must exist.
Result<RecorderKey> EnsureRecorderKey(const std::string& path, uid_t uid, gid_t gid,
                                      std::string_view comment, Env* env = Env::Default());

// The recorder binary sshd runs for recorded sessions must be setuid to the
// recorder user (docs/recording.md). OK if: path is absolute; its real path
// is a regular file owned by root or uid, not writable by group or others,
// executable by others; and every directory above it up to `top` is owned
// by root and not writable by group or others (a user who could replace the
// binary would own every recorded session). NotFound if it does not exist,
// PermissionDenied naming the offending component otherwise (CheckSafePath,
// gate/secure_file.h). `top` is "/" outside tests.
Status CheckRecorderExecutable(const std::string& path, uid_t uid, const std::string& top = "/");

// The recorder's mode: setuid to the recorder user (its own files), setgid
// to the cache's group (the node's policy cache, root:gate-cache 0750).
inline constexpr mode_t kRecorderMode = 06755;

// CheckRecorderExecutable, then, unless it is already owned by
// uid:cache_gid with mode 6755, chowns it to uid:cache_gid and sets 6755.
// Returns whether it changed anything.
Result<bool> EnsureRecorderExecutable(const std::string& path, uid_t uid, gid_t cache_gid,
                                      const std::string& top = "/");

}  // namespace gate::hooks

#endif  // GATE_SSHD_HOOKS_NODE_RECORDER_FILES_H_
