#include "gate/node_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "gate/json.h"
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
  policy.max_size = max_size;
  return policy;
}

Status CheckCacheDir(const CacheLocation& cache) {
  SafePathOptions options;
  options.subject = "cache directory";
  options.consequence = "whoever can write it could swap the policy between our checks";
  return CheckSafeDir(cache.dir, cache.owner, options);
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

}  // namespace gate::node
