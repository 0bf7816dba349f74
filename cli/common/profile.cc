#include "cli/common/profile.h"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sstream>

#include "gate/duration.h"
#include "gate/json.h"
#include "gate/secure_file.h"

namespace gate::cli {
namespace {

std::string Join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string UtcTime(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
  return buf;
}

}  // namespace

Result<ProfileStore> ProfileStore::Default() {
  if (const char* home = std::getenv("GATE_HOME"); home != nullptr && home[0] != '\0') {
    return ProfileStore(home);
  }
  // The password database, not $HOME: under sudo $HOME may be someone else's.
  const passwd* pw = getpwuid(geteuid());
  if (pw == nullptr || pw->pw_dir == nullptr) {
    return Err(NotFound("cannot find the home directory of uid " + std::to_string(geteuid())));
  }
  return ProfileStore(std::string(pw->pw_dir) + "/.gate");
}

Status ProfileStore::Save(const Profile& profile, const SecretString& key_pem,
                          const std::string& cert_line,
                          const std::vector<std::string>& host_ca_keys) const {
  GATE_RETURN_IF_ERROR(EnsurePrivateDir(dir_, 0700));
  std::string known_hosts =
      "# gate: host CA of cluster " + profile.cluster + " (" + profile.proxy + ")\n";
  for (const auto& key : host_ca_keys) known_hosts += "@cert-authority * " + key + "\n";

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

  GATE_RETURN_IF_ERROR(WriteFileAtomic(KeyPath(), key_pem.view(), 0600));
  GATE_RETURN_IF_ERROR(WriteFileAtomic(CertPath(), cert_line + "\n", 0644));
  GATE_RETURN_IF_ERROR(WriteFileAtomic(KnownHostsPath(), known_hosts, 0644));
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
  if (s.ok()) s = get_list("roles", &out.roles);
  if (s.ok()) s = get_list("logins", &out.logins);
  if (s.ok()) s = get_list("extensions", &out.extensions);
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
  for (const std::string& path : {KeyPath(), CertPath(), KnownHostsPath(), ProfilePath()}) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Internal("cannot remove " + path + ": " + std::strerror(errno));
    }
  }
  return Status::Ok();
}

std::string FormatProfile(const Profile& profile, std::int64_t now) {
  std::ostringstream out;
  const std::int64_t left = profile.valid_before - now;
  out << "> Profile URL:  https://" << profile.proxy << "\n"
      << "  Logged in as: " << profile.user << "\n"
      << "  Cluster:      " << profile.cluster << "\n"
      << "  Roles:        " << (profile.roles.empty() ? "(none)" : Join(profile.roles, ", "))
      << "\n"
      << "  Logins:       " << Join(profile.logins, ", ") << "\n"
      << "  Valid until:  " << UtcTime(profile.valid_before)
      << (left > 0 ? " [valid for " + FormatDuration(std::chrono::seconds(left)) + "]"
                   : std::string(" [EXPIRED]"))
      << "\n"
      << "  Extensions:   " << Join(profile.extensions, ", ") << "\n";
  return out.str();
}

}  // namespace gate::cli
