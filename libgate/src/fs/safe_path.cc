// CheckSafePath / CheckSafeDir: the one "can this path be trusted" rule.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "gate/secure_file.h"
#include "gate/unique_fd.h"

namespace gate {
namespace {

// "700", "644": chmod's argument that keeps mode but clears bits.
std::string WithoutBits(mode_t mode, mode_t bits) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%o", static_cast<unsigned>(mode & 07777 & ~bits));
  return buf;
}

// "o+x", "a+x": the chmod argument that sets bits.
std::string SetBitsArg(mode_t bits) {
  std::string who;
  if ((bits & 0700) != 0) who += 'u';
  if ((bits & 0070) != 0) who += 'g';
  if ((bits & 0007) != 0) who += 'o';
  const mode_t any = ((bits >> 6) | (bits >> 3) | bits) & 7;
  std::string what;
  if ((any & 4) != 0) what += 'r';
  if ((any & 2) != 0) what += 'w';
  if ((any & 1) != 0) what += 'x';
  return who + "+" + what;
}

// What the forbidden bits mean, for the message.
std::string ForbiddenText(mode_t bits) {
  if ((bits & 040) != 0) return "accessible by group/others";
  if ((bits & 022) != 0) return "writable by group/others";
  return "accessible by others";
}

class Refusal {
 public:
  Refusal(const std::string& path, const SafePathOptions& options)
      : path_(path), options_(options) {}

  // PermissionDenied: "<subject> <path>: <why>; run: <fix> (<consequence>)".
  Status Unsafe(const std::string& why, const std::string& fix = "") const {
    std::string message = Prefix() + why;
    if (!fix.empty()) message += "; run: " + fix;
    if (!options_.consequence.empty()) message += " (" + options_.consequence + ")";
    return PermissionDenied(std::move(message));
  }
  Status StatError(const std::string& component, int err) const {
    if (err == ENOENT) return NotFound(Prefix() + component + " does not exist");
    if (err == EACCES || err == EPERM) {
      return PermissionDenied(Prefix() + "cannot reach " + component + ": " + std::strerror(err));
    }
    return Unavailable(Prefix() + "cannot stat " + component + ": " + std::strerror(err));
  }

 private:
  std::string Prefix() const {
    return options_.subject.empty() ? std::string() : options_.subject + " " + path_ + ": ";
  }
  const std::string& path_;
  const SafePathOptions& options_;
};

bool OwnerAccepted(uid_t uid, uid_t owner, const std::vector<uid_t>& also) {
  return uid == owner || std::find(also.begin(), also.end(), uid) != also.end();
}

std::string ExpectedOwners(uid_t owner, const std::vector<uid_t>& also) {
  std::string out = "uid " + std::to_string(owner);
  for (const uid_t uid : also) out += " or " + std::to_string(uid);
  return out;
}

// The checks on the subject itself (file or directory), given its stat.
// label names it in the message ("directory /etc"), path in the fix.
Status CheckSubject(const Refusal& refuse, const std::string& label, const std::string& path,
                    const struct stat& st, uid_t owner, const SafePathOptions& options,
                    bool is_dir) {
  if (S_ISLNK(st.st_mode)) return refuse.Unsafe(label + " is a symbolic link");
  if (is_dir && !S_ISDIR(st.st_mode)) return refuse.Unsafe(label + " is not a directory");
  if (!is_dir && !S_ISREG(st.st_mode)) return refuse.Unsafe(label + " is not a regular file");
  if (!OwnerAccepted(st.st_uid, owner, options.also_owned_by)) {
    return refuse.Unsafe(label + " is owned by uid " + std::to_string(st.st_uid) + ", expected " +
                             ExpectedOwners(owner, options.also_owned_by),
                         "chown " + std::to_string(owner) + " " + path);
  }
  if (options.group && st.st_gid != *options.group) {
    return refuse.Unsafe(label + " has group " + std::to_string(st.st_gid) + ", expected gid " +
                             std::to_string(*options.group),
                         "chgrp " + std::to_string(*options.group) + " " + path);
  }
  if ((st.st_mode & options.forbidden_bits) != 0) {
    return refuse.Unsafe(label + " is " + ForbiddenText(options.forbidden_bits & st.st_mode) +
                             " (mode " + OctalMode(st.st_mode) + ")",
                         "chmod " + WithoutBits(st.st_mode, options.forbidden_bits) + " " + path);
  }
  if ((st.st_mode & options.required_bits) != options.required_bits) {
    const std::string missing = (options.required_bits & 0111) == options.required_bits
                                    ? (is_dir ? "searchable" : "executable")
                                    : "readable";
    return refuse.Unsafe(
        label + " is not " + missing + " by others (mode " + OctalMode(st.st_mode) + ")",
        "chmod " + SetBitsArg(options.required_bits) + " " + path);
  }
  return Status::Ok();
}

using CPath = std::unique_ptr<char, decltype(&::free)>;

bool IsUnder(const std::string& path, const std::string& top) {
  if (top == "/") return true;
  return path.size() > top.size() && path.compare(0, top.size(), top) == 0 &&
         path[top.size()] == '/';
}

std::string Parent(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Drops trailing slashes ("dir/" would make the kernel follow a symlink
// named dir despite O_NOFOLLOW) and doubled ones.
std::string Normalize(std::string path) {
  std::string out;
  for (const char c : path) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out += c;
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

bool HasDotComponent(const std::string& path) {
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view part(path.data() + start, end - start);
    if (part == "." || part == "..") return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

Status CheckSafePath(const std::string& path, uid_t owner, const SafePathOptions& options) {
  const Refusal refuse(path, options);
  const std::string what = options.subject.empty() ? "the path" : options.subject;
  if (path.empty() || path.front() != '/') {
    return InvalidArgument(what + " must be an absolute path, not '" + path + "'");
  }
  std::string file = Normalize(path);
  std::string top = Normalize(options.top.empty() ? "/" : options.top);
  if (options.links == SafePathOptions::Links::kRefuse && HasDotComponent(file)) {
    // The walk goes up by removing components: "a/../b" would check the
    // wrong directories. kResolve has no such names after realpath.
    return InvalidArgument(what + " must not contain . or .. components: '" + path + "'");
  }
  if (options.links == SafePathOptions::Links::kResolve) {
    CPath real(::realpath(path.c_str(), nullptr), &::free);
    if (!real) return refuse.StatError(path, errno);
    file = real.get();
  }
  // top itself is named by the caller (a constant or a test's directory), so
  // resolving it does not open a hole; it lets "/tmp" match "/private/tmp".
  CPath real_top(::realpath(top.c_str(), nullptr), &::free);
  if (!real_top) return refuse.StatError(top, errno);
  top = real_top.get();
  if (!IsUnder(file, top) || file == top) {
    return refuse.Unsafe(file + " is not under " + top);
  }

  struct stat st {};
  if (::lstat(file.c_str(), &st) != 0) return refuse.StatError(file, errno);
  const bool is_dir = options.type == SafePathOptions::Type::kDirectory;
  GATE_RETURN_IF_ERROR(CheckSubject(refuse, file, file, st, owner, options, is_dir));

  SafePathOptions dir_rule;
  dir_rule.forbidden_bits = 022;
  dir_rule.required_bits = options.dir_required_bits;
  std::string current = file;
  while (current != top) {
    current = Parent(current);
    if (::lstat(current.c_str(), &st) != 0) return refuse.StatError(current, errno);
    GATE_RETURN_IF_ERROR(CheckSubject(refuse, "directory " + current, current, st, owner, dir_rule,
                                      /*is_dir=*/true));
    if (current == "/") break;
  }
  return Status::Ok();
}

Status CheckSafeDirFd(int fd, const std::string& dir, uid_t owner, const SafePathOptions& options) {
  const Refusal refuse(dir, options);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return refuse.StatError(dir, errno);
  return CheckSubject(refuse, dir, dir, st, owner, options, /*is_dir=*/true);
}

Status CheckSafeDir(const std::string& dir, uid_t owner, const SafePathOptions& options) {
  const Refusal refuse(dir, options);
  const std::string path = Normalize(dir);
  if (path.empty()) return InvalidArgument("empty directory path");
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    const int err = errno;
    struct stat st {};
    // O_DIRECTORY wins over O_NOFOLLOW: a symlink reports ENOTDIR (or
    // ELOOP); lstat only picks the message, the open already refused.
    if ((err == ENOTDIR || err == ELOOP) && ::lstat(path.c_str(), &st) == 0) {
      return CheckSubject(refuse, path, path, st, owner, options, /*is_dir=*/true);
    }
    return refuse.StatError(path, err);
  }
  return CheckSafeDirFd(fd.get(), path, owner, options);
}

}  // namespace gate
