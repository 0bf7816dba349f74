#include "gate/node_cache.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "gate/secure_file.h"
#include "gate/unique_fd.h"

namespace gate::node {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

}  // namespace

FilePolicy CacheFilePolicy(uid_t owner, std::size_t max_size) {
  FilePolicy policy;
  policy.allowed_owners = {owner};
  policy.secret = false;
  policy.others_may_read = false;
  policy.max_size = max_size;
  return policy;
}

Result<gid_t> CacheGroupId(const CacheLocation& cache) {
  if (cache.group) return *cache.group;
  const std::string name(kCacheGroup);
  std::vector<char> buf(16384);
  struct group entry {};
  struct group* found = nullptr;
  const int err = ::getgrnam_r(name.c_str(), &entry, buf.data(), buf.size(), &found);
  if (err != 0 || found == nullptr) {
    return Err(NotFound("group " + name +
                        " (the readers of the policy cache) does not exist; run gate-node join"));
  }
  return found->gr_gid;
}

Status CheckCacheDir(const CacheLocation& cache) {
  auto group = CacheGroupId(cache);
  if (!group) return group.error();
  SafePathOptions options;
  options.subject = "cache directory";
  options.group = *group;
  options.forbidden_bits = 027;
  options.consequence = "only root and the group " + std::string(kCacheGroup) +
                        " may read the cache, and only root write it; gate-node sync sets this up";
  return CheckSafeDir(cache.dir, cache.owner, options);
}

Result<std::int64_t> ReadSyncStamp(const CacheLocation& cache) {
  const std::string path = cache.SyncStampPath();
  auto text = ReadSecureFile(path, CacheFilePolicy(cache.owner, kMaxSyncStampSize));
  if (!text) return Err(text.error());
  auto when = ParseSyncStamp(text->view());
  if (!when) return Err(DataLoss(path + ": " + when.error().message()));
  return when;
}

std::string FormatSyncStamp(std::int64_t when) { return std::to_string(when) + "\n"; }

Result<std::int64_t> ParseSyncStamp(std::string_view text) {
  if (text.empty() || text.back() != '\n') return Err(DataLoss("not a time stamp line"));
  text.remove_suffix(1);
  std::int64_t when = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), when);
  if (text.empty() || text.front() == '-' || ec != std::errc() ||
      end != text.data() + text.size() || when <= 0) {
    return Err(DataLoss("not a unix time"));
  }
  return when;
}

Result<std::vector<ssh::Ed25519PublicKey>> ReadUserCaKeys(const CacheLocation& cache) {
  const std::string path = cache.UserCaPath();
  auto text = ReadSecureFile(path, CacheFilePolicy(cache.owner, kMaxUserCaSize));
  if (!text) return Err(text.error());
  auto keys = ParseUserCaKeys(text->view());
  if (!keys) return Err(DataLoss(path + ": " + keys.error().message()));
  return keys;
}

namespace {

// One key line of a TrustedUserCAKeys file: the key and its comment (the
// text after the base64, trimmed; empty if none).
struct UserCaLine {
  ssh::Ed25519PublicKey key;
  std::string_view comment;
};

Result<std::vector<UserCaLine>> ParseUserCaLines(std::string_view text) {
  std::vector<UserCaLine> lines;
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
    // FromAuthorizedKey accepted "TYPE BASE64[ comment]": skip two fields.
    std::string_view comment = line;
    for (int field = 0; field < 2; ++field) {
      while (!comment.empty() && !IsBlank(comment.front())) comment.remove_prefix(1);
      while (!comment.empty() && IsBlank(comment.front())) comment.remove_prefix(1);
    }
    lines.push_back({std::move(*key), comment});
  }
  return lines;
}

}  // namespace

Result<std::vector<ssh::Ed25519PublicKey>> ParseUserCaKeys(std::string_view text) {
  auto lines = ParseUserCaLines(text);
  if (!lines) return Err(lines.error());
  std::vector<ssh::Ed25519PublicKey> keys;
  keys.reserve(lines->size());
  for (auto& line : *lines) keys.push_back(std::move(line.key));
  return keys;
}

std::string FormatUserCaKeys(const std::vector<ssh::Ed25519PublicKey>& keys) {
  std::string out;
  for (const auto& key : keys) {
    out += key.AuthorizedKey(key.Fingerprint());
    out += '\n';
  }
  return out;
}

std::string RecordedUserCaFingerprint(const CacheLocation& cache, const ssh::Ed25519PublicKey& ca) {
  auto text = ReadSecureFile(cache.UserCaPath(), CacheFilePolicy(cache.owner, kMaxUserCaSize));
  if (!text) return "";
  auto lines = ParseUserCaLines(text->view());
  if (!lines) return "";
  for (const UserCaLine& line : *lines) {
    if (line.key == ca && line.comment.starts_with("SHA256:") &&
        line.comment.find_first_of(" \t") == std::string_view::npos) {
      return std::string(line.comment);
    }
  }
  return "";
}

}  // namespace gate::node
