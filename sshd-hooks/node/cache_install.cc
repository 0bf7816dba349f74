#include "sshd-hooks/node/cache_install.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "gate/bytes.h"
#include "gate/ed25519.h"
#include "gate/json.h"
#include "gate/krl.h"
#include "gate/node_cache.h"
#include "gate/secure_file.h"
#include "gate/unique_fd.h"
#include "sshd-hooks/node/recorder_files.h"

namespace gate::hooks {
namespace {

// True if path is a regular file (not a symlink) owned by us, of group
// `group`, with exactly `mode` and exactly `content`.
bool AlreadyInstalled(const std::string& path, std::string_view content, mode_t mode, gid_t group,
                      std::size_t max_size) {
  FilePolicy policy;
  policy.secret = false;
  policy.max_size = max_size;
  auto fd = OpenSecureFile(path, policy);
  if (!fd) return false;
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0 || (st.st_mode & 07777) != mode || st.st_gid != group ||
      static_cast<std::size_t>(st.st_size) != content.size()) {
    return false;
  }
  auto current = ReadSecureFile(path, policy);
  return current && current->view() == content;
}

// Same policy, ignoring when it was generated.
bool SamePolicy(node::CacheLocation where, const policy::Snapshot& fresh) {
  where.owner = ::geteuid();
  auto old = node::ReadSnapshot(where);
  if (!old) return false;
  Json::Value a = policy::SnapshotToJson(*old);
  Json::Value b = policy::SnapshotToJson(fresh);
  a.removeMember("generated_at");
  b.removeMember("generated_at");
  return a == b;
}

// The same certificates revoked, whatever the KRL's version and time stamp.
bool SameRevocations(const std::string& path, const std::string& fresh) {
  auto text = ReadFile(path, node::kMaxKrlSize);
  if (!text) return false;
  auto old_krl = ssh::ParseKrl(*text);
  auto new_krl = ssh::ParseKrl(fresh);
  if (!old_krl || !new_krl || old_krl->sections.size() != new_krl->sections.size()) return false;
  for (std::size_t i = 0; i < old_krl->sections.size(); ++i) {
    auto a = old_krl->sections[i];
    auto b = new_krl->sections[i];
    std::sort(a.serials.begin(), a.serials.end());
    std::sort(b.serials.begin(), b.serials.end());
    if (!(a.ca == b.ca) || a.serials != b.serials || a.ranges != b.ranges) return false;
  }
  return true;
}

Result<bool> InstallFile(const std::string& path, std::string_view content, gid_t group,
                         std::size_t max_size) {
  if (AlreadyInstalled(path, content, node::kCacheFileMode, group, max_size)) return false;
  Status s = WriteCacheFile(path, content, group);
  if (!s.ok()) return Err(s);
  return true;
}

// The directory, root:gate-cache 0750: gate-principals (in the group) and
// gate-record (setgid to it) must reach the files, nobody else. Nodes
// joined before the cache was private had it 0755 root:root; this fixes
// that on the first sync.
Result<gid_t> EnsureCacheDir(const std::string& dir, std::optional<gid_t> group) {
  node::CacheLocation where;
  where.dir = dir;
  where.group = group;
  auto gid = node::CacheGroupId(where);
  if (!gid) return Err(gid.error());
  // Created 0755 when missing: EnsurePrivateDir accepts an existing 0755
  // one too, which the fchmod below then closes.
  GATE_RETURN_IF_ERROR(EnsurePrivateDir(dir, 0755));
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid() || ::fchown(fd.get(), ::geteuid(), *gid) != 0 ||
      ::fchmod(fd.get(), node::kCacheDirMode) != 0) {
    return Err(Unavailable("cannot make " + dir + " group " + std::to_string(*gid) +
                           ", mode 0750: " + std::strerror(errno)));
  }
  return *gid;
}

}  // namespace

Result<CacheContents> CacheFromPolicyReply(const Json::Value& reply,
                                           std::string_view expected_host_uuid) {
  if (!reply.isObject()) return Err(InvalidArgument("policy reply is not a JSON object"));
  CacheContents c;

  if (!reply.isMember("snapshot") || !reply["snapshot"].isObject()) {
    return Err(InvalidArgument("policy reply: field 'snapshot' must be an object"));
  }
  auto snapshot = policy::SnapshotFromJson(reply["snapshot"]);
  if (!snapshot) return Err(snapshot.error().WithContext("policy reply: snapshot"));
  if (!expected_host_uuid.empty() && snapshot->host_uuid != expected_host_uuid) {
    return Err(InvalidArgument("policy reply: snapshot is for host '" + snapshot->host_uuid +
                               "', not this node (" + std::string(expected_host_uuid) + ")"));
  }
  c.snapshot = std::move(*snapshot);

  auto user_ca = json::GetStringArray(reply, "user_ca");
  if (!user_ca) return Err(user_ca.error().WithContext("policy reply"));
  std::vector<ssh::Ed25519PublicKey> keys;
  for (const auto& line : *user_ca) {
    auto key = ssh::Ed25519PublicKey::FromAuthorizedKey(line);
    if (!key) return Err(key.error().WithContext("policy reply: user_ca"));
    keys.push_back(std::move(*key));
  }
  if (keys.empty()) return Err(InvalidArgument("policy reply: user_ca lists no key"));
  c.user_ca = node::FormatUserCaKeys(keys);
  if (c.user_ca.size() > node::kMaxUserCaSize) {
    return Err(InvalidArgument("policy reply: user_ca is too large"));
  }

  auto krl_b64 = json::GetString(reply, "krl");
  if (!krl_b64) return Err(krl_b64.error().WithContext("policy reply"));
  auto krl = Base64Decode(*krl_b64);
  if (!krl) return Err(krl.error().WithContext("policy reply: krl"));
  if (krl->size() > node::kMaxKrlSize)
    return Err(InvalidArgument("policy reply: krl is too large"));
  auto parsed_krl = ssh::ParseKrl(*krl);
  if (!parsed_krl) return Err(parsed_krl.error().WithContext("policy reply: krl"));
  c.krl = std::move(*krl);
  return c;
}

Status WriteCacheFile(const std::string& path, std::string_view content, gid_t group) {
  return WriteOwnedFileAtomic(path, content, node::kCacheFileMode, ::geteuid(), group);
}

Status WriteSyncStamp(const std::string& dir, std::int64_t when, std::optional<gid_t> group) {
  auto gid = EnsureCacheDir(dir, group);
  if (!gid) return gid.error();
  node::CacheLocation where;
  where.dir = dir;
  return WriteCacheFile(where.SyncStampPath(), node::FormatSyncStamp(when), *gid);
}

Result<CacheChanges> InstallCache(const std::string& dir, const CacheContents& contents,
                                  std::optional<gid_t> group) {
  auto gid = EnsureCacheDir(dir, group);
  if (!gid) return Err(gid.error());
  node::CacheLocation where;
  where.dir = dir;
  CacheChanges changes;

  auto policy_db = node::EncodePolicyCache(contents.snapshot);
  if (!policy_db) return Err(policy_db.error().WithContext(where.PolicyPath()));
  changes.policy_changed = !SamePolicy(where, contents.snapshot);
  auto wrote = InstallFile(where.PolicyPath(), *policy_db, *gid, node::kMaxPolicySize);
  if (!wrote) return Err(wrote.error());
  changes.policy_written = *wrote;
  if (::unlink(where.LegacyPolicyPath().c_str()) != 0 && errno != ENOENT) {
    return Err(
        Unavailable("cannot remove " + where.LegacyPolicyPath() + ": " + std::strerror(errno)));
  }

  wrote = InstallFile(where.UserCaPath(), contents.user_ca, *gid, node::kMaxUserCaSize);
  if (!wrote) return Err(wrote.error());
  changes.user_ca_written = *wrote;

  changes.krl_changed = !SameRevocations(where.KrlPath(), contents.krl);
  wrote = InstallFile(where.KrlPath(), contents.krl, *gid, node::kMaxKrlSize);
  if (!wrote) return Err(wrote.error());
  changes.krl_written = *wrote;
  return changes;
}

std::string DescribeCacheChanges(const CacheChanges& c) {
  if (!c.policy_changed && !c.user_ca_written && !c.krl_changed) return "cache unchanged";
  std::string out;
  auto add = [&out](bool changed, const char* what) {
    if (!out.empty()) out += ", ";
    out += what;
    out += changed ? " updated" : " unchanged";
  };
  add(c.policy_changed, "policy");
  add(c.user_ca_written, "user CA");
  add(c.krl_changed, "KRL");
  return out;
}

}  // namespace gate::hooks
