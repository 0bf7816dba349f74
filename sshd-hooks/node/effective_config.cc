#include "sshd-hooks/node/effective_config.h"

#include <glob.h>
#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "gate/secure_file.h"
#include "sshd-hooks/node/process.h"

namespace gate::hooks {
namespace {

constexpr int kMaxIncludeDepth = 16;
// What a Match block's spec uses for what its criteria leave open.
constexpr char kProbeUser[] = "nobody";
constexpr char kProbeHost[] = "probe.invalid";
constexpr char kProbeAddr[] = "192.0.2.1";  // TEST-NET-1

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string> Words(std::string_view s) {
  std::vector<std::string> out;
  while (true) {
    s = Trim(s);
    if (s.empty()) return out;
    std::size_t end = 0;
    while (end < s.size() && !IsBlank(s[end])) ++end;
    out.emplace_back(s.substr(0, end));
    s.remove_prefix(end);
  }
}

// The spelling sshd_config uses, for messages.
std::string Spelled(const std::string& keyword) {
  static const std::map<std::string, std::string> kNames = {
      {"trustedusercakeys", "TrustedUserCAKeys"},
      {"revokedkeys", "RevokedKeys"},
      {"authorizedprincipalscommand", "AuthorizedPrincipalsCommand"},
      {"authorizedprincipalscommanduser", "AuthorizedPrincipalsCommandUser"},
      {"authorizedprincipalsfile", "AuthorizedPrincipalsFile"},
      {"exposeauthinfo", "ExposeAuthInfo"},
      {"forcecommand", "ForceCommand"},
      {"allowtcpforwarding", "AllowTcpForwarding"},
      {"allowstreamlocalforwarding", "AllowStreamLocalForwarding"},
      {"permittunnel", "PermitTunnel"},
  };
  auto it = kNames.find(keyword);
  return it == kNames.end() ? keyword : it->second;
}

Status ReadInto(const std::string& path, const std::string& ssh_dir, int depth,
                std::string match_at, std::vector<ConfigLine>& out) {
  if (depth > kMaxIncludeDepth) {
    return FailedPrecondition(path + ": Include nested more than " +
                              std::to_string(kMaxIncludeDepth) + " deep");
  }
  auto text = ReadFile(path, 1 << 20);
  if (!text) return text.error().WithContext("reading sshd's configuration");
  std::string_view rest = *text;
  int number = 0;
  while (!rest.empty()) {
    const std::size_t nl = rest.find('\n');
    std::string_view line = Trim(rest.substr(0, nl));
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    ++number;
    if (line.empty() || line.front() == '#') continue;
    std::size_t end = 0;
    while (end < line.size() && !IsBlank(line[end]) && line[end] != '=') ++end;
    ConfigLine entry;
    entry.file = path;
    entry.line = number;
    entry.keyword = Lower(line.substr(0, end));
    std::string_view value = Trim(line.substr(end));
    if (!value.empty() && value.front() == '=') value = Trim(value.substr(1));
    entry.value = std::string(value);
    if (entry.keyword == "match") match_at = path + ":" + std::to_string(number);
    entry.match_at = match_at;
    out.push_back(entry);
    if (entry.keyword != "include") continue;
    for (std::string pattern : Words(entry.value)) {
      if (pattern.front() != '/') pattern = ssh_dir + "/" + pattern;
      glob_t found{};
      const int rc = ::glob(pattern.c_str(), 0, nullptr, &found);
      std::vector<std::string> files;
      if (rc == 0) files.assign(found.gl_pathv, found.gl_pathv + found.gl_pathc);
      ::globfree(&found);
      // glob sorts, as sshd reads them. A Match inside an included file
      // ends with that file.
      for (const std::string& file : files) {
        GATE_RETURN_IF_ERROR(ReadInto(file, ssh_dir, depth + 1, entry.match_at, out));
      }
    }
  }
  return Status::Ok();
}

std::string Where(const ConfigLine& line) {
  return line.file + ":" + std::to_string(line.line) + ": " + Spelled(line.keyword) + " " +
         line.value;
}

// The first directive setting keyword in the block match_at ("" = top
// level), other than gate's own.
const ConfigLine* FirstSetting(const std::vector<ConfigLine>& lines, const std::string& keyword,
                               const std::string& match_at, const std::string& drop_in_path) {
  for (const ConfigLine& line : lines) {
    if (line.keyword == keyword && line.match_at == match_at && line.file != drop_in_path) {
      return &line;
    }
  }
  return nullptr;
}

// A member of group name, or "".
std::string MemberOf(const std::string& name) {
  const struct group* gr = ::getgrnam(name.c_str());
  if (gr == nullptr) return "";
  if (gr->gr_mem != nullptr && gr->gr_mem[0] != nullptr) return gr->gr_mem[0];
  const gid_t gid = gr->gr_gid;
  ::setpwent();
  std::string found;
  while (const struct passwd* pw = ::getpwent()) {
    if (pw->pw_gid == gid) {
      found = pw->pw_name;
      break;
    }
  }
  ::endpwent();
  return found;
}

// A value that the first positive pattern of a comma list matches; for a
// list of negations only, fallback unless it is one of them; else "".
std::string Satisfying(const std::string& list, const std::string& fallback) {
  std::string_view rest = list;
  bool fallback_refused = false;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    std::string pattern(rest.substr(0, comma));
    rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
    if (pattern.empty()) continue;
    if (pattern.front() == '!') {
      fallback_refused = fallback_refused || pattern.substr(1) == fallback;
      continue;
    }
    for (char& c : pattern) {
      if (c == '*' || c == '?') c = 'x';
    }
    return pattern;
  }
  return fallback_refused ? "" : fallback;
}

}  // namespace

Result<std::map<std::string, std::string>> RunSshdT(const std::string& binary,
                                                    const std::string& config,
                                                    const std::string& spec) {
  std::vector<std::string> argv = {binary, "-T", "-f", config};
  if (!spec.empty()) argv.insert(argv.end(), {"-C", spec});
  auto r = RunProcess(argv);
  if (!r) return Err(r.error());
  if (r->exit_code != 0) {
    return Err(FailedPrecondition(binary + " -T -f " + config +
                                  (spec.empty() ? "" : " -C " + spec) + " failed:\n" +
                                  std::string(Trim(r->output))));
  }
  std::map<std::string, std::string> settings;
  std::string_view out = r->output;
  while (!out.empty()) {
    const std::size_t nl = out.find('\n');
    std::string_view line = out.substr(0, nl);
    out.remove_prefix(nl == std::string_view::npos ? out.size() : nl + 1);
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos) continue;
    settings.emplace(std::string(line.substr(0, space)), std::string(line.substr(space + 1)));
  }
  return settings;
}

Result<std::vector<ConfigLine>> ReadSshdConfig(const std::string& config,
                                               const std::string& ssh_dir) {
  std::vector<ConfigLine> lines;
  GATE_RETURN_IF_ERROR(ReadInto(config, ssh_dir, 0, "", lines));
  return lines;
}

std::string MatchSpec(const std::string& criteria) {
  std::map<std::string, std::string> spec = {
      {"user", kProbeUser}, {"host", kProbeHost}, {"addr", kProbeAddr}};
  const std::vector<std::string> words = Words(criteria);
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string what = Lower(words[i]);
    if (what == "all") continue;
    if (i + 1 >= words.size()) return "";
    const std::string& list = words[++i];
    const std::string fallback = what == "user"      ? kProbeUser
                                 : what == "host"    ? kProbeHost
                                 : what == "address" ? kProbeAddr
                                                     : "";
    const std::string value = Satisfying(list, fallback);
    if (value.empty()) return "";
    if (what == "user") {
      spec["user"] = value;
    } else if (what == "group") {
      const std::string member = MemberOf(value);
      if (member.empty()) return "";
      spec["user"] = member;
    } else if (what == "host") {
      spec["host"] = value;
    } else if (what == "address") {
      std::string addr = value.substr(0, value.find('/'));
      // A network's own address, e.g. 10.0.0.0/8: take a host in it.
      if (addr.size() > 2 && addr.compare(addr.size() - 2, 2, ".0") == 0) addr.back() = '1';
      spec["addr"] = addr;
    } else if (what == "localaddress") {
      spec["laddr"] = value.substr(0, value.find('/'));
    } else if (what == "localport") {
      spec["lport"] = value;
    } else if (what == "rdomain") {
      spec["rdomain"] = value;
    } else {
      return "";
    }
  }
  std::string out;
  for (const auto& [key, value] : spec) out += (out.empty() ? "" : ",") + key + "=" + value;
  return out;
}

std::vector<ExpectedSetting> ExpectedSettings(const DropInSettings& d) {
  std::vector<ExpectedSetting> out = {
      {"trustedusercakeys", d.cache_dir + "/user_ca.pub"},
      {"revokedkeys", d.cache_dir + "/revoked.krl"},
      {"authorizedprincipalscommand", PrincipalsCommandOf(d)},
      {"authorizedprincipalscommanduser", d.principals_user},
      {"authorizedprincipalsfile", "none"},
      {"exposeauthinfo", "yes"},
  };
  if (d.record_all_sessions) {
    out.push_back({"forcecommand", RecordCommandOf(d)});
    // sshd would forward out of the recorder's sight (docs/recording.md).
    out.push_back({"allowtcpforwarding", "no"});
    out.push_back({"allowstreamlocalforwarding", "no"});
    out.push_back({"permittunnel", "no"});
  }
  return out;
}

Result<EffectiveConfig> CheckEffectiveConfig(const std::string& binary, const std::string& config,
                                             const std::string& ssh_dir,
                                             const std::string& drop_in_path,
                                             const DropInSettings& drop_in) {
  auto lines = ReadSshdConfig(config, ssh_dir);
  if (!lines) return Err(lines.error());
  auto global = RunSshdT(binary, config, "");
  if (!global) return Err(global.error());

  EffectiveConfig result;
  const std::vector<ExpectedSetting> expected = ExpectedSettings(drop_in);
  std::vector<std::string> bypassed;
  for (const ExpectedSetting& want : expected) {
    const std::string got = (*global)[want.keyword];
    if (got == want.value) continue;
    bypassed.push_back(want.keyword);
    Bypass b{want.keyword, want.value, got, "", ""};
    if (const ConfigLine* line = FirstSetting(*lines, want.keyword, "", drop_in_path)) {
      b.culprit =
          Where(*line) + (want.keyword == "authorizedprincipalsfile"
                              ? " (sshd accepts principals it lists beside gate-principals' answer)"
                              : " comes first (sshd keeps the first value it reads)");
    } else {
      b.culprit = config + " does not read " + drop_in_path + " (add `Include " +
                  drop_in_path.substr(0, drop_in_path.rfind('/')) + "/*.conf` at its top)";
    }
    result.bypasses.push_back(b);
  }

  for (const ConfigLine& match : *lines) {
    if (match.keyword != "match") continue;
    const std::string at = match.file + ":" + std::to_string(match.line);
    const std::string spec = MatchSpec(match.value);
    if (spec.empty()) {
      result.warnings.push_back("the Match block at " + at + " (Match " + match.value +
                                ") was not checked: no test connection can be built for it");
      continue;
    }
    auto matched = RunSshdT(binary, config, spec);
    if (!matched) return Err(matched.error());
    for (const ExpectedSetting& want : expected) {
      if (std::find(bypassed.begin(), bypassed.end(), want.keyword) != bypassed.end()) continue;
      const std::string got = (*matched)[want.keyword];
      if (got == want.value) continue;
      const ConfigLine* line = FirstSetting(*lines, want.keyword, at, drop_in_path);
      result.bypasses.push_back({want.keyword, want.value, got, spec,
                                 (line != nullptr ? Where(*line) : "a setting") +
                                     " in the Match block at " + at + " (Match " + match.value +
                                     ") overrides it"});
    }
  }

  const std::string keys = (*global)["authorizedkeysfile"];
  if (!keys.empty() && keys != "none") {
    result.warnings.push_back(
        "AuthorizedKeysFile is `" + keys +
        "`: a plain key in a user's authorized_keys logs in without a gate certificate, role "
        "or lock. Set `AuthorizedKeysFile none` where only gate should decide "
        "(docs/node-setup.md)");
  }
  return result;
}

std::string DescribeBypasses(const std::vector<Bypass>& bypasses) {
  std::string out;
  for (const Bypass& b : bypasses) {
    out += "  sshd will not use gate's " + Spelled(b.keyword) + " " + b.want + " (it has `" +
           (b.effective.empty() ? "nothing" : b.effective) + "`" +
           (b.connection.empty() ? "" : " for connections like " + b.connection) +
           "): " + b.culprit + "\n";
  }
  return out;
}

}  // namespace gate::hooks
