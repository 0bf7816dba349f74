#include "cli/common/profile.h"

#include <dirent.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sstream>

#include "cli/common/terminal_text.h"
#include "gate/duration.h"
#include "gate/json.h"
#include "gate/secure_file.h"

namespace gate::cli {
namespace {

constexpr std::size_t kMaxKnownHosts = 4 << 20;

std::string Join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

// A proxy (host:port) or user name as one directory name.
Status CheckPathPart(std::string_view what, const std::string& part) {
  if (part.empty() || part == "." || part == ".." || part.size() > 255 ||
      part.find('/') != std::string::npos || part.find('\0') != std::string::npos) {
    return InvalidArgument(std::string(what) + " '" + part.substr(0, 64) +
                           "' cannot name a profile");
  }
  return Status::Ok();
}

bool IsHostNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_' || c == ':';
}

bool IsPlainHostName(std::string_view name) {
  return !name.empty() && name.size() <= 253 && name.front() != '-' &&
         std::all_of(name.begin(), name.end(), IsHostNameChar);
}

// The comment that marks a known_hosts line as this proxy's, so a new
// login replaces exactly its cluster's lines.
std::string TrustMark(const std::string& proxy) { return " gate:" + proxy; }

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

Result<ProfileHome> ProfileHome::Default() {
  if (const char* home = std::getenv("GATE_HOME"); home != nullptr && home[0] != '\0') {
    return ProfileHome(home);
  }
  // The password database, not $HOME: under sudo $HOME may be someone else's.
  const passwd* pw = getpwuid(geteuid());
  if (pw == nullptr || pw->pw_dir == nullptr) {
    return Err(NotFound("cannot find the home directory of uid " + std::to_string(geteuid())));
  }
  return ProfileHome(std::string(pw->pw_dir) + "/.gate");
}

Result<ProfileStore> ProfileHome::For(const std::string& proxy, const std::string& user) const {
  GATE_RETURN_IF_ERROR(CheckPathPart("proxy", proxy));
  GATE_RETURN_IF_ERROR(CheckPathPart("user", user));
  return ProfileStore(root_ + "/keys/" + proxy + "/" + user, KnownHostsPath());
}

Result<ProfileStore> ProfileHome::Current() const {
  const Status not_logged_in =
      NotFound("not logged in (no profile in " + root_ + "); run: gate login --proxy HOST");
  auto text = ReadFile(root_ + "/current-profile", 4096);
  if (!text) {
    if (text.error().code() != Code::kNotFound) return Err(text.error());
    // A home from before profiles were kept per cluster.
    if (::access((root_ + "/profile.json").c_str(), F_OK) == 0) {
      return ProfileStore(root_, KnownHostsPath());
    }
    return Err(not_logged_in);
  }
  std::string name = *text;
  while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
  const std::size_t slash = name.rfind('/');
  if (slash == std::string::npos) {
    return Err(DataLoss(root_ + "/current-profile is corrupt; run gate login"));
  }
  return For(name.substr(0, slash), name.substr(slash + 1));
}

Status ProfileHome::SetCurrent(const std::string& proxy, const std::string& user) const {
  GATE_RETURN_IF_ERROR(CheckPathPart("proxy", proxy));
  GATE_RETURN_IF_ERROR(CheckPathPart("user", user));
  GATE_RETURN_IF_ERROR(EnsurePrivateDir(root_, 0700));
  return WriteFileAtomic(root_ + "/current-profile", proxy + "/" + user + "\n", 0600);
}

Status ProfileHome::ClearCurrent() const {
  const std::string path = root_ + "/current-profile";
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Internal("cannot remove " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

std::vector<Profile> ProfileHome::List() const {
  std::vector<Profile> out;
  for (const std::string& proxy : ListDir(root_ + "/keys")) {
    for (const std::string& user : ListDir(root_ + "/keys/" + proxy)) {
      auto store = For(proxy, user);
      if (!store) continue;
      if (auto profile = store->Load(); profile) out.push_back(*std::move(profile));
    }
  }
  return out;
}

Status ProfileHome::WriteClusterTrust(const Profile& profile,
                                      const std::vector<std::string>& host_ca_keys) const {
  GATE_RETURN_IF_ERROR(EnsurePrivateDir(root_, 0700));
  std::string kept;
  auto old = ReadFile(KnownHostsPath(), kMaxKnownHosts);
  if (!old && old.error().code() != Code::kNotFound) return old.error();
  const std::string mark = TrustMark(profile.proxy);
  const std::string header =
      "# gate: host CA of cluster " + profile.cluster + " (" + profile.proxy + ")";
  if (old) {
    std::istringstream lines(*old);
    for (std::string line; std::getline(lines, line);) {
      // The cluster may have been renamed since: its proxy names the block.
      const bool old_header = line.rfind("# gate: host CA of cluster ", 0) == 0 &&
                              EndsWith(line, " (" + profile.proxy + ")");
      if (EndsWith(line, mark) || old_header) continue;
      kept += line + "\n";
    }
  }
  std::string block = header + "\n";
  const std::string patterns = Join(profile.host_patterns, ",");
  for (const auto& key : host_ca_keys) {
    block += "@cert-authority " + patterns + " " + key + mark + "\n";
  }
  return WriteFileAtomic(KnownHostsPath(), kept + block, 0644);
}

std::vector<std::string> ClusterHostPatterns(const std::string& cluster,
                                             const std::vector<std::string>& node_names) {
  std::vector<std::string> names;
  if (IsPlainHostName(cluster)) names.push_back("*." + cluster);
  for (const std::string& n : node_names) {
    if (IsPlainHostName(n) && std::find(names.begin(), names.end(), n) == names.end()) {
      names.push_back(n);
    }
  }
  std::vector<std::string> out = names;
  for (const std::string& n : names) out.push_back("[" + n + "]:*");
  return out;
}

Result<ProfileStore> ProfileStore::Default() {
  auto home = ProfileHome::Default();
  if (!home) return Err(home.error());
  return home->Current();
}

Status ProfileStore::Save(const Profile& profile, const SecretString& key_pem,
                          const std::string& cert_line) const {
  // The home (where known_hosts is), then each level below it down to the
  // profile: EnsurePrivateDir makes one level at a time.
  const std::string root = known_hosts_.substr(0, known_hosts_.rfind('/'));
  GATE_RETURN_IF_ERROR(EnsurePrivateDir(root, 0700));
  if (dir_.size() > root.size() && dir_.compare(0, root.size() + 1, root + "/") == 0) {
    for (std::size_t slash = dir_.find('/', root.size() + 1); slash != std::string::npos;
         slash = dir_.find('/', slash + 1)) {
      GATE_RETURN_IF_ERROR(EnsurePrivateDir(dir_.substr(0, slash), 0700));
    }
  }
  GATE_RETURN_IF_ERROR(EnsurePrivateDir(dir_, 0700));

  Json::Value p;
  p["proxy"] = profile.proxy;
  p["user"] = profile.user;
  p["cluster"] = profile.cluster;
  p["insecure"] = profile.insecure;
  p["ca_pin"] = profile.ca_pin;
  p["roles"] = json::StringArray(profile.roles);
  p["logins"] = json::StringArray(profile.logins);
  p["extensions"] = json::StringArray(profile.extensions);
  p["valid_after"] = Json::Int64(profile.valid_after);
  p["valid_before"] = Json::Int64(profile.valid_before);
  p["serial"] = profile.serial;
  if (!profile.connector.empty()) p["connector"] = profile.connector;
  p["host_patterns"] = json::StringArray(profile.host_patterns);

  GATE_RETURN_IF_ERROR(WriteFileAtomic(KeyPath(), key_pem.view(), 0600));
  GATE_RETURN_IF_ERROR(WriteFileAtomic(CertPath(), cert_line + "\n", 0644));
  return WriteFileAtomic(ProfilePath(), json::Write(p) + "\n", 0600);
}

Result<Profile> ProfileStore::Load() const {
  FilePolicy policy;
  policy.max_size = 64 * 1024;
  auto text = ReadSecureFile(ProfilePath(), policy);
  if (!text) {
    if (text.error().code() == Code::kNotFound) {
      return Err(
          NotFound("not logged in (no profile in " + dir_ + "); run: gate login --proxy HOST"));
    }
    return Err(text.error());
  }
  auto p = json::Parse(text->view());
  if (!p) return Err(DataLoss(ProfilePath() + " is corrupt: " + p.error().message()));
  Profile out;
  auto get = [&](std::string_view name, std::string* dst) -> Status {
    auto v = json::GetString(*p, name);
    if (!v) return v.error();
    *dst = *v;
    return Status::Ok();
  };
  auto get_list = [&](std::string_view name, std::vector<std::string>* dst) -> Status {
    auto v = json::OptionalStringArray(*p, name);
    if (!v) return v.error();
    *dst = *v;
    return Status::Ok();
  };
  Status s = get("proxy", &out.proxy);
  if (s.ok()) s = get("user", &out.user);
  if (s.ok()) s = get("cluster", &out.cluster);
  if (s.ok()) s = get("ca_pin", &out.ca_pin);
  if (s.ok()) s = get("serial", &out.serial);
  if (s.ok()) {
    auto connector = json::OptionalString(*p, "connector");
    if (!connector) {
      s = connector.error();
    } else {
      out.connector = *connector;
    }
  }
  if (s.ok()) s = get_list("roles", &out.roles);
  if (s.ok()) s = get_list("logins", &out.logins);
  if (s.ok()) s = get_list("extensions", &out.extensions);
  if (s.ok()) s = get_list("host_patterns", &out.host_patterns);
  if (s.ok()) {
    auto after = json::GetInt(*p, "valid_after");
    auto before = json::GetInt(*p, "valid_before");
    if (!after || !before) {
      s = !after ? after.error() : before.error();
    } else {
      out.valid_after = *after;
      out.valid_before = *before;
    }
  }
  if (s.ok()) {
    const Json::Value& insecure = (*p)["insecure"];
    if (!insecure.isBool())
      s = InvalidArgument("field 'insecure' must be a boolean");
    else
      out.insecure = insecure.asBool();
  }
  if (!s.ok()) return Err(DataLoss(ProfilePath() + " is corrupt: " + s.message()));
  return out;
}

Status ProfileStore::Remove() const {
  for (const std::string& path : {KeyPath(), CertPath(), ProfilePath()}) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Internal("cannot remove " + path + ": " + std::strerror(errno));
    }
  }
  // The directory goes if it is now empty; a profile of an older ~/.gate
  // lives in the root, which stays.
  (void)::rmdir(dir_.c_str());
  return Status::Ok();
}

std::string FormatProfile(const Profile& profile, std::int64_t now, bool current) {
  std::ostringstream out;
  const std::int64_t left = profile.valid_before - now;
  out << (current ? "> " : "  ") << "Profile URL:  https://" << profile.proxy << "\n"
      << "  Logged in as: " << profile.user << "\n"
      << (profile.connector.empty() ? std::string() : "  Connector:    " + profile.connector + "\n")
      << "  Cluster:      " << profile.cluster << "\n"
      << "  Roles:        " << (profile.roles.empty() ? "(none)" : Join(profile.roles, ", "))
      << "\n"
      << "  Logins:       " << Join(profile.logins, ", ") << "\n"
      << "  Valid until:  " << UtcTime(profile.valid_before) << " +0000 UTC"
      << (left > 0 ? " [valid for " + FormatDuration(std::chrono::seconds(left)) + "]"
                   : std::string(" [EXPIRED]"))
      << "\n"
      << "  Extensions:   " << Join(profile.extensions, ", ") << "\n";
  return out.str();
}

}  // namespace gate::cli
