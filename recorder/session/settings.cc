#include "recorder/session/settings.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

#include "gate/json.h"
#include "gate/secure_file.h"

namespace gate::recorder {
namespace {

bool HasControl(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

Result<std::string> RequiredText(const Json::Value& obj, std::string_view name) {
  auto v = json::GetString(obj, name);
  if (!v) return Err(v.error());
  if (v->empty()) return Err(InvalidArgument("field '" + std::string(name) + "' is empty"));
  if (HasControl(*v)) {
    return Err(InvalidArgument("field '" + std::string(name) + "' contains control characters"));
  }
  return v;
}

Status OptionalPath(const Json::Value& obj, std::string_view name, std::string& out) {
  auto v = json::OptionalString(obj, name, out);
  if (!v) return v.error();
  if (v->empty() || v->front() != '/' || HasControl(*v)) {
    return InvalidArgument("field '" + std::string(name) + "' must be an absolute path");
  }
  out = std::move(*v);
  return Status::Ok();
}

Status OptionalBool(const Json::Value& obj, std::string_view name, bool& out) {
  const Json::Value* v = obj.find(name.data(), name.data() + name.size());
  if (v == nullptr || v->isNull()) return Status::Ok();
  if (!v->isBool())
    return InvalidArgument("field '" + std::string(name) + "' must be true or false");
  out = v->asBool();
  return Status::Ok();
}

std::string Unsafe(const std::string& path, const std::string& why) {
  return "refusing recorder settings " + path + ": " + why +
         " (the recorder runs setuid, so its settings file and every directory above it must be "
         "owned by root and not writable by group or others)";
}

}  // namespace

Result<Settings> ParseSettings(std::string_view text) {
  auto root = json::Parse(text, kMaxSettingsSize);
  if (!root) return Err(root.error());
  static const std::set<std::string> kKnown = {
      "version",  "cluster_name",      "host_uuid",    "node_name",
      "proxy",    "cache_dir",         "spool_dir",    "run_dir",
      "key_file", "flush_interval_ms", "record_input", "record_exec_output"};
  for (const std::string& name : root->getMemberNames()) {
    if (kKnown.count(name) == 0) return Err(InvalidArgument("unknown field '" + name + "'"));
  }
  auto version = json::GetInt(*root, "version");
  if (!version) return Err(version.error());
  if (*version != 1) {
    return Err(InvalidArgument("unsupported version " + std::to_string(*version) +
                               " (this recorder reads version 1)"));
  }
  Settings s;
  for (auto [name, field] :
       {std::pair{"cluster_name", &s.cluster_name}, std::pair{"host_uuid", &s.host_uuid},
        std::pair{"node_name", &s.node_name}, std::pair{"proxy", &s.proxy}}) {
    auto v = RequiredText(*root, name);
    if (!v) return Err(v.error());
    *field = std::move(*v);
  }
  GATE_RETURN_IF_ERROR(OptionalPath(*root, "cache_dir", s.cache_dir));
  GATE_RETURN_IF_ERROR(OptionalPath(*root, "spool_dir", s.spool_dir));
  GATE_RETURN_IF_ERROR(OptionalPath(*root, "run_dir", s.run_dir));
  GATE_RETURN_IF_ERROR(OptionalPath(*root, "key_file", s.key_file));
  auto flush = json::OptionalInt(*root, "flush_interval_ms", kDefaultFlushIntervalMs);
  if (!flush) return Err(flush.error());
  if (*flush < kMinFlushIntervalMs || *flush > kMaxFlushIntervalMs) {
    return Err(InvalidArgument("field 'flush_interval_ms' must be between " +
                               std::to_string(kMinFlushIntervalMs) + " and " +
                               std::to_string(kMaxFlushIntervalMs)));
  }
  s.flush_interval_ms = *flush;
  GATE_RETURN_IF_ERROR(OptionalBool(*root, "record_input", s.record_input));
  GATE_RETURN_IF_ERROR(OptionalBool(*root, "record_exec_output", s.record_exec_output));
  return s;
}

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
