#include "sshd-hooks/common/cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "gate/json.h"
#include "gate/secure_file.h"
#include "gate/unique_fd.h"

namespace gate::hooks {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

}  // namespace

FilePolicy CacheFilePolicy(uid_t owner, std::size_t max_size) {
  FilePolicy policy;
  policy.allowed_owners = {owner};
  policy.secret = false;
  policy.max_size = max_size;
  return policy;
}

Status CheckCacheDir(const CacheLocation& cache) {
  std::string dir = cache.dir;
  // "cache/" would make the kernel follow a symlink named cache despite
  // O_NOFOLLOW: the trailing slash asks for the directory it points to.
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir.empty()) return InvalidArgument("empty cache directory path");

  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    const int err = errno;
    struct stat st {};
    if ((err == ENOTDIR || err == ELOOP) && ::lstat(dir.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      return PermissionDenied("cache directory " + dir + " is a symbolic link");
    }
    if (err == ENOENT) return NotFound("cache directory " + dir + " does not exist");
    if (err == ENOTDIR) return PermissionDenied(dir + " is not a directory");
    return PermissionDenied("cannot open cache directory " + dir + ": " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Unavailable("cannot stat " + dir + ": " + std::strerror(errno));
  }
  if (st.st_uid != cache.owner) {
    return PermissionDenied("cache directory " + dir + " is owned by uid " +
                            std::to_string(st.st_uid) + ", expected uid " +
                            std::to_string(cache.owner) + "; run: chown " +
                            std::to_string(cache.owner) + " " + dir);
  }
  if ((st.st_mode & 022) != 0) {
    return PermissionDenied("cache directory " + dir + " is writable by group/others (mode " +
                            OctalMode(st.st_mode) + "); run: chmod 755 " + dir);
  }
  return Status::Ok();
}

Result<policy::Snapshot> ReadSnapshot(const CacheLocation& cache) {
  const std::string path = cache.PolicyPath();
  auto text = ReadSecureFile(path, CacheFilePolicy(cache.owner, kMaxPolicySize));
  if (!text) return Err(text.error());
  auto doc = json::Parse(text->view(), kMaxPolicySize);
  if (!doc) return Err(DataLoss(path + ": " + doc.error().message()));
  auto snapshot = policy::SnapshotFromJson(*doc);
  if (!snapshot) return Err(DataLoss(path + ": " + snapshot.error().message()));
  return snapshot;
}

Result<std::vector<ssh::Ed25519PublicKey>> ReadUserCaKeys(const CacheLocation& cache) {
  const std::string path = cache.UserCaPath();
  auto text = ReadSecureFile(path, CacheFilePolicy(cache.owner, kMaxUserCaSize));
  if (!text) return Err(text.error());
  auto keys = ParseUserCaKeys(text->view());
  if (!keys) return Err(DataLoss(path + ": " + keys.error().message()));
  return keys;
}

Result<std::vector<ssh::Ed25519PublicKey>> ParseUserCaKeys(std::string_view text) {
  std::vector<ssh::Ed25519PublicKey> keys;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    while (!line.empty() && IsBlank(line.front())) line.remove_prefix(1);
    while (!line.empty() && IsBlank(line.back())) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    auto key = ssh::Ed25519PublicKey::FromAuthorizedKey(line);
    if (!key) {
      return Err(InvalidArgument("line " + std::to_string(line_no) + ": " + key.error().message()));
    }
    keys.push_back(std::move(*key));
  }
  return keys;
}

std::string FormatUserCaKeys(const std::vector<ssh::Ed25519PublicKey>& keys) {
  std::string out;
  for (const auto& key : keys) {
    out += key.AuthorizedKey();
    out += '\n';
  }
  return out;
}

}  // namespace gate::hooks
