#include "recorder/session/settings.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "gate/json.h"
#include "gate/secure_file.h"

namespace gate::recorder {
namespace {

std::string Unsafe(const std::string& path, const std::string& why) {
  return "refusing recorder settings " + path + ": " + why +
         " (the recorder runs setuid, so its settings file and every directory above it must be "
         "owned by root and not writable by group or others)";
}

}  // namespace

Status CheckRootOwnedPath(const std::string& path, uid_t owner, const std::string& top) {
  if (path.empty() || path.front() != '/') {
    return InvalidArgument("recorder settings path must be absolute, not '" + path + "'");
  }
  std::unique_ptr<char, decltype(&::free)> real(::realpath(path.c_str(), nullptr), &::free);
  if (!real) {
    const int err = errno;
    if (err == ENOENT) return NotFound(path + " does not exist");
    return PermissionDenied("cannot resolve " + path + ": " + std::strerror(err));
  }
  std::unique_ptr<char, decltype(&::free)> real_top(::realpath(top.c_str(), nullptr), &::free);
  if (!real_top) return PermissionDenied("cannot resolve " + top + ": " + std::strerror(errno));
  const std::string top_dir = real_top.get();
  std::string current = real.get();
  if (top_dir != "/" &&
      (current.size() <= top_dir.size() || current.compare(0, top_dir.size(), top_dir) != 0 ||
       current[top_dir.size()] != '/')) {
    return PermissionDenied(Unsafe(path, current + " is not under " + top_dir));
  }

  struct stat st {};
  if (::lstat(current.c_str(), &st) != 0) {
    return PermissionDenied("cannot stat " + current + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return PermissionDenied(Unsafe(path, current + " is not a file"));
  if (st.st_uid != owner) {
    return PermissionDenied(
        Unsafe(path, current + " is owned by uid " + std::to_string(st.st_uid)));
  }
  if ((st.st_mode & 022) != 0) {
    return PermissionDenied(Unsafe(
        path, current + " is writable by group/others (mode " + OctalMode(st.st_mode) + ")"));
  }
  while (current != top_dir) {
    const std::size_t slash = current.find_last_of('/');
    current = slash == 0 ? "/" : current.substr(0, slash);
    if (::lstat(current.c_str(), &st) != 0) {
      return PermissionDenied("cannot stat " + current + ": " + std::strerror(errno));
    }
    if (st.st_uid != owner) {
      return PermissionDenied(
          Unsafe(path, "directory " + current + " is owned by uid " + std::to_string(st.st_uid)));
    }
    if ((st.st_mode & 022) != 0) {
      return PermissionDenied(Unsafe(path, "directory " + current +
                                               " is writable by group/others (mode " +
                                               OctalMode(st.st_mode) + ")"));
    }
    if (current == "/") break;
  }
  return Status::Ok();
}

Result<Settings> LoadSettings(const std::string& path, uid_t owner, const std::string& top) {
  GATE_RETURN_IF_ERROR(CheckRootOwnedPath(path, owner, top));
  FilePolicy policy;
  policy.allowed_owners = {owner};
  policy.secret = false;
  policy.max_size = kMaxSettingsSize;
  // Opened again with O_NOFOLLOW and checked on the descriptor: the walk
  // above proved nobody but the owner can swap the file in between.
  auto text = ReadSecureFile(path, policy);
  if (!text) return Err(text.error());
  auto settings = ParseSettings(text->view());
  if (!settings) return Err(settings.error().WithContext(path));
  return settings;
}

Result<ssh::Ed25519PrivateKey> LoadRecorderKey(const std::string& path) {
  FilePolicy policy;  // owned by our euid, not readable by group/others
  policy.secret = true;
  policy.max_size = 16 * 1024;
  auto pem = ReadSecureFile(path, policy);
  if (!pem) return Err(pem.error().WithContext("recorder key"));
  auto key = ssh::DecodeOpenSshPrivateKey(pem->view());
  if (!key) return Err(key.error().WithContext("recorder key " + path));
  return key;
}

}  // namespace gate::recorder
