#include "sshd-hooks/node/recorder_files.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "gate/secure_file.h"
#include "gate/unique_fd.h"

namespace gate::hooks {
namespace {

constexpr std::size_t kMaxKeyFileSize = 16 * 1024;

std::string ErrnoText(int err) { return std::strerror(err); }

std::string BaseName(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Status KeyUnusable(const std::string& path, const std::string& why) {
  return FailedPrecondition(
      "the existing recorder key " + path + " is not usable: " + why +
      ". It was left as it is. If someone else may have read or replaced it, remove it and run "
      "this again: a new key is generated and registered with gate-ca (recordings signed by the "
      "old key stay verifiable only against the old public key)");
}

}  // namespace

Status EnsureOwnedDir(const std::string& dir, uid_t uid, gid_t gid, mode_t mode,
                      std::vector<std::string>* created) {
  if (dir.empty() || dir.front() != '/') {
    return InvalidArgument("directory must be an absolute path, not '" + dir + "'");
  }
  std::string path = dir;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  for (std::size_t pos = path.find('/', 1); pos != std::string::npos;
       pos = path.find('/', pos + 1)) {
    if (path[pos - 1] == '/') continue;
    const std::string parent = path.substr(0, pos);
    if (::mkdir(parent.c_str(), 0755) == 0) {
      if (created != nullptr) created->push_back(parent);
    } else if (errno != EEXIST) {
      return Unavailable("cannot create " + parent + ": " + ErrnoText(errno));
    }
  }
  if (::mkdir(path.c_str(), 0700) == 0) {
    if (created != nullptr) created->push_back(path);
  } else if (errno != EEXIST) {
    return Unavailable("cannot create " + path + ": " + ErrnoText(errno));
  }
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      return PermissionDenied(path + " is a symbolic link; remove it");
    }
    return PermissionDenied(path + " is not a directory (" + ErrnoText(errno) + ")");
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return Unavailable("cannot stat " + path + ": " + ErrnoText(errno));
  if (st.st_uid != 0 && st.st_uid != uid) {
    return PermissionDenied(path + " is owned by uid " + std::to_string(st.st_uid) +
                            ", neither root nor the recorder user; move it away");
  }
  if (::fchown(fd.get(), uid, gid) != 0 || ::fchmod(fd.get(), mode) != 0) {
    return Unavailable("cannot set the owner and mode of " + path + ": " + ErrnoText(errno));
  }
  return Status::Ok();
}

Status WriteOwnedFileAtomic(const std::string& path, std::string_view data, mode_t mode, uid_t uid,
                            gid_t gid, Env* env) {
  const std::string name = BaseName(path);
  if (name.empty()) return InvalidArgument("cannot write '" + path + "': not a file path");
  auto dir = env->OpenDirectory(DirName(path));
  if (!dir) return dir.error();
  const Status s = WriteFileAtomicIn(**dir, name, data, mode, FileOwner{uid, gid});
  return s.ok() ? s : s.WithContext("writing " + path);
}

Result<RecorderKey> EnsureRecorderKey(const std::string& path, uid_t uid, gid_t gid,
                                      std::string_view comment, Env* env) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode)) return Err(KeyUnusable(path, "it is a symbolic link"));
    if (!S_ISREG(st.st_mode)) return Err(KeyUnusable(path, "it is not a regular file"));
    if (st.st_uid != uid) {
      return Err(KeyUnusable(path, "it is owned by uid " + std::to_string(st.st_uid) +
                                       ", not the recorder user (uid " + std::to_string(uid) +
                                       ")"));
    }
    if ((st.st_mode & 077) != 0) {
      return Err(KeyUnusable(path, "its mode is " + OctalMode(st.st_mode) +
                                       ": group or others may read or write it (it must be 0600)"));
    }
    FilePolicy policy;
    policy.allowed_owners = {uid};
    policy.secret = true;
    policy.max_size = kMaxKeyFileSize;
    auto pem = ReadSecureFile(path, policy);
    if (!pem) return Err(KeyUnusable(path, pem.error().message()));
    auto key = ssh::DecodeOpenSshPrivateKey(pem->view());
    if (!key) {
      return Err(KeyUnusable(path, "it is not an unencrypted Ed25519 key in OpenSSH format (" +
                                       key.error().message() + ")"));
    }
    return RecorderKey{key->public_key(), false};
  } else if (errno != ENOENT) {
    return Err(Unavailable("cannot stat " + path + ": " + ErrnoText(errno)));
  }
  auto key = ssh::Ed25519PrivateKey::Generate();
  if (!key) return Err(key.error());
  const SecretString pem = ssh::EncodeOpenSshPrivateKey(*key, comment);
  GATE_RETURN_IF_ERROR(WriteOwnedFileAtomic(path, pem.view(), 0600, uid, gid, env));
  return RecorderKey{key->public_key(), true};
}

namespace {

// The real path of a recorder that passes CheckRecorderExecutable, with
// its stat.
Result<std::string> CheckedRecorder(const std::string& path, uid_t uid, const std::string& top,
                                    struct stat* st) {
  SafePathOptions options;
  options.links = SafePathOptions::Links::kResolve;
  options.top = top;
  options.also_owned_by = {uid};
  options.required_bits = 0001;  // recorded users run it
  options.subject = "the recorder";
  options.consequence = "whoever can change the setuid recorder controls every recorded session";
  if (Status s = CheckSafePath(path, 0, options); !s.ok()) {
    if (s.code() != Code::kNotFound) return Err(s);
    return Err(NotFound(s.message() +
                        "; install gate-record there (or pass --recorder-command): sshd would "
                        "fail every recorded session"));
  }
  std::unique_ptr<char, decltype(&::free)> real(::realpath(path.c_str(), nullptr), &::free);
  if (!real || ::lstat(real.get(), st) != 0) {
    return Err(Unavailable("cannot resolve " + path + ": " + ErrnoText(errno)));
  }
  return std::string(real.get());
}

}  // namespace

Status CheckRecorderExecutable(const std::string& path, uid_t uid, const std::string& top) {
  struct stat st {};
  auto file = CheckedRecorder(path, uid, top, &st);
  return file ? Status::Ok() : file.error();
}

Result<bool> EnsureRecorderExecutable(const std::string& path, uid_t uid, gid_t cache_gid,
                                      const std::string& top) {
  struct stat st {};
  auto file = CheckedRecorder(path, uid, top, &st);
  if (!file) return Err(file.error());
  if (st.st_uid == uid && st.st_gid == cache_gid && (st.st_mode & 07777) == kRecorderMode) {
    return false;
  }
  UniqueFd fd(::open(file->c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return Err(Unavailable("cannot open " + *file + ": " + ErrnoText(errno)));
  // chown clears the set-id bits, so the mode comes second.
  if (::fchown(fd.get(), uid, cache_gid) != 0 || ::fchmod(fd.get(), kRecorderMode) != 0) {
    return Err(Unavailable("cannot make " + *file + " setuid to uid " + std::to_string(uid) +
                           " and setgid to gid " + std::to_string(cache_gid) + ": " +
                           ErrnoText(errno)));
  }
  return true;
}

}  // namespace gate::hooks
