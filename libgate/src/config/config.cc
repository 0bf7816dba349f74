#include "gate/config.h"

#include <limits.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "config/webauthn_config.h"
#include "gate/duration.h"
#include "gate/secure_file.h"

namespace gate {
namespace {

constexpr std::size_t kMaxConfigSize = 1 << 20;

std::string HostName() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

// Parses a decimal port; 1..65535 only (0 means "any port" to bind(), which
// is never what a config or a client means).
Result<std::uint16_t> ParsePort(std::string_view text, std::string_view whole) {
  unsigned value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec == std::errc::invalid_argument || ptr != end) {
    return Err(InvalidArgument("invalid port in '" + std::string(whole) + "' (use host:port)"));
  }
  if (ec == std::errc::result_out_of_range || value == 0 || value > 65535) {
    return Err(InvalidArgument("port in '" + std::string(whole) + "' is out of range (1-65535)"));
  }
  return static_cast<std::uint16_t>(value);
}

bool ValidHost(std::string_view host) {
  if (host.empty()) return false;
  for (char c : host) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '/' || c == '[' || c == ']' || c == '@') return false;
  }
  return true;
}

bool ValidClusterName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// One key of a mapping: its name and what to do with its value.
struct Field {
  std::string_view key;
  std::function<Status(const YAML::Node& value, const std::string& key)> parse;
};

// Walks a gate.yaml document into a Config. Every error is InvalidArgument
// with "<name>:<line>: " in front, line being 1-based.
class ConfigParser {
 public:
  explicit ConfigParser(std::string_view name) : name_(name) {}

  Result<Config> Parse(std::string_view text);

 private:
  Status At(const YAML::Mark& mark, const std::string& msg) const {
    if (mark.is_null()) return InvalidArgument(name_ + ": " + msg);
    return InvalidArgument(name_ + ":" + std::to_string(mark.line + 1) + ": " + msg);
  }
  Status At(const YAML::Node& node, const std::string& msg) const { return At(node.Mark(), msg); }
  // Error about the key at a dotted path seen earlier (cross-field checks).
  Status AtKey(const std::string& path, const std::string& msg) const {
    auto it = marks_.find(path);
    return At(it == marks_.end() ? YAML::Mark::null_mark() : it->second, msg);
  }
  bool Seen(const std::string& path) const { return marks_.count(path) != 0; }

  Status Section(const YAML::Node& map, const std::string& path, const std::vector<Field>& fields);
  Status Scalar(const YAML::Node& v, const std::string& key, std::string* out) const;
  Status String(const YAML::Node& v, const std::string& key, std::string* out) const;
  Status Int(const YAML::Node& v, const std::string& key, int min, int max, int* out) const;
  Status Duration(const YAML::Node& v, const std::string& key, std::chrono::seconds* out) const;
  Status Address(const YAML::Node& v, const std::string& key, std::uint16_t default_port,
                 HostPort* out) const;
  // A duration of at least 1 s and at most max.
  Status Timeout(const YAML::Node& v, const std::string& key, std::chrono::seconds max,
                 std::chrono::seconds* out) const;
  // A list of non-empty strings.
  Status StringList(const YAML::Node& v, const std::string& key,
                    std::vector<std::string>* out) const;
  // An https:// URL with a host.
  Status HttpsUrl(const YAML::Node& v, const std::string& key, std::string* out) const;
  // authentication.connectors: a list of connector mappings.
  Status Connectors(const YAML::Node& v, std::vector<ConnectorConfig>* out);
  Status ClaimsToRoles(const YAML::Node& v, const std::string& path,
                       std::vector<ClaimRoleMapping>* out);
  // Required fields, and type/connector_name against the connectors.
  Status ConnectorChecks(AuthenticationConfig& a) const;
  Status CrossChecks(Config& c) const;
  // web_idle_timeout and web_session_ttl: 1m <= idle <= ttl <= 7 days.
  Status WebSessionChecks(const Config& c) const;
  // Fits the defaults of keys the file did not set to the ones it did
  // (worker_threads: 2 lowers every class's default concurrency), then
  // checks the explicit values against each other.
  Status LimitChecks(ServingLimits& l) const;
  // Fills webauthn's defaults from public_addr and checks rp_id and origins.
  Status WebauthnChecks(Config& c) const;

  std::string name_;
  // Where each key was found, by dotted path ("auth_service.cert_ttl").
  std::map<std::string, YAML::Mark> marks_;
  std::string public_addr_text_;
  YAML::Mark public_addr_mark_ = YAML::Mark::null_mark();
};

Status ConfigParser::Section(const YAML::Node& map, const std::string& path,
                             const std::vector<Field>& fields) {
  // "auth_service:" with everything under it commented out is an empty section.
  if (map.IsNull()) return Status::Ok();
  if (!map.IsMap()) {
    return At(map, path.empty() ? "the top level must be a mapping of keys to values"
                                : path + ": expected a mapping of keys to values");
  }
  const std::string in = path.empty() ? "" : " in " + path;
  std::set<std::string> seen;
  for (const auto& kv : map) {
    const YAML::Node& key_node = kv.first;
    if (!key_node.IsScalar()) return At(key_node, "keys must be plain names" + in);
    const std::string& key = key_node.Scalar();
    // yaml-cpp keeps the last of two equal keys; a silent override in a
    // security config is worse than an error.
    if (!seen.insert(key).second) return At(key_node, "duplicate key '" + key + "'" + in);
    auto field =
        std::find_if(fields.begin(), fields.end(), [&](const Field& f) { return f.key == key; });
    if (field == fields.end()) return At(key_node, "unknown key '" + key + "'" + in);
    marks_[path.empty() ? key : path + "." + key] = key_node.Mark();
    GATE_RETURN_IF_ERROR(field->parse(kv.second, key));
  }
  return Status::Ok();
}

Status ConfigParser::Scalar(const YAML::Node& v, const std::string& key, std::string* out) const {
  if (v.IsNull()) return At(v, key + ": missing value");
  if (!v.IsScalar()) return At(v, key + ": expected a single value, not a list or mapping");
  *out = v.Scalar();
  return Status::Ok();
}

Status ConfigParser::String(const YAML::Node& v, const std::string& key, std::string* out) const {
  std::string s;
  GATE_RETURN_IF_ERROR(Scalar(v, key, &s));
  if (s.empty()) return At(v, key + ": must not be empty");
  *out = std::move(s);
  return Status::Ok();
}

Status ConfigParser::Int(const YAML::Node& v, const std::string& key, int min, int max,
                         int* out) const {
  std::string s;
  GATE_RETURN_IF_ERROR(Scalar(v, key, &s));
  long long value = 0;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, value);
  if (s.empty() || ec == std::errc::invalid_argument || ptr != end) {
    return At(v, key + ": expected a whole number, got '" + s + "'");
  }
  if (ec == std::errc::result_out_of_range || value < min || value > max) {
    return At(v, key + ": " + s + " is out of range (" + std::to_string(min) + "-" +
                     std::to_string(max) + ")");
  }
  *out = static_cast<int>(value);
  return Status::Ok();
}

Status ConfigParser::Duration(const YAML::Node& v, const std::string& key,
                              std::chrono::seconds* out) const {
  std::string s;
  GATE_RETURN_IF_ERROR(Scalar(v, key, &s));
  auto d = ParseDuration(s);
  if (!d) return At(v, key + ": " + d.error().message());
  *out = *d;
  return Status::Ok();
}

Status ConfigParser::Address(const YAML::Node& v, const std::string& key,
                             std::uint16_t default_port, HostPort* out) const {
  std::string s;
  GATE_RETURN_IF_ERROR(Scalar(v, key, &s));
  auto hp = ParseHostPort(s, default_port);
  if (!hp) return At(v, key + ": " + hp.error().message());
  *out = std::move(*hp);
  return Status::Ok();
}

Status ConfigParser::Timeout(const YAML::Node& v, const std::string& key, std::chrono::seconds max,
                             std::chrono::seconds* out) const {
  std::chrono::seconds d{};
  GATE_RETURN_IF_ERROR(Duration(v, key, &d));
  if (d > max)
    return At(v, key + ": " + FormatDuration(d) + " is longer than " + FormatDuration(max));
  *out = d;
  return Status::Ok();
}

Status ConfigParser::StringList(const YAML::Node& v, const std::string& key,
                                std::vector<std::string>* out) const {
  if (!v.IsSequence()) return At(v, key + ": expected a list ([a, b])");
  std::vector<std::string> list;
  for (const auto& item : v) {
    std::string s;
    GATE_RETURN_IF_ERROR(String(item, key, &s));
    list.push_back(std::move(s));
  }
  *out = std::move(list);
  return Status::Ok();
}

Status ConfigParser::HttpsUrl(const YAML::Node& v, const std::string& key, std::string* out) const {
  std::string s;
  GATE_RETURN_IF_ERROR(String(v, key, &s));
  constexpr std::string_view kScheme = "https://";
  const bool bad_char = std::any_of(s.begin(), s.end(), [](char ch) {
    const auto u = static_cast<unsigned char>(ch);
    return u <= 0x20 || u >= 0x7f || ch == '#';
  });
  if (s.rfind(kScheme, 0) != 0 || s.size() == kScheme.size() || s[kScheme.size()] == '/' ||
      bad_char) {
    return At(v, key + ": '" + s + "' is not an https:// URL");
  }
  *out = std::move(s);
  return Status::Ok();
}

Status ConfigParser::ClaimsToRoles(const YAML::Node& v, const std::string& path,
                                   std::vector<ClaimRoleMapping>* out) {
  if (!v.IsSequence()) {
    return At(v, "claims_to_roles: expected a list of {claim, value, roles} mappings");
  }
  std::vector<ClaimRoleMapping> rules;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const YAML::Node item = v[i];
    ClaimRoleMapping rule;
    const std::string here = path + ".claims_to_roles[" + std::to_string(i) + "]";
    GATE_RETURN_IF_ERROR(Section(
        item, here,
        {{"claim",
          [&](const YAML::Node& n, const std::string& k) { return String(n, k, &rule.claim); }},
         {"value",
          [&](const YAML::Node& n, const std::string& k) { return String(n, k, &rule.value); }},
         {"roles", [&](const YAML::Node& n, const std::string& k) {
            return StringList(n, k, &rule.roles);
          }}}));
    if (rule.claim.empty() || rule.value.empty() || rule.roles.empty()) {
      return At(item, here + ": needs claim, value and roles");
    }
    rules.push_back(std::move(rule));
  }
  *out = std::move(rules);
  return Status::Ok();
}

Status ConfigParser::Connectors(const YAML::Node& v, std::vector<ConnectorConfig>* out) {
  const std::string path = "auth_service.authentication.connectors";
  if (!v.IsSequence()) return At(v, "connectors: expected a list of connectors");
  std::vector<ConnectorConfig> list;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const YAML::Node item = v[i];
    ConnectorConfig c;
    OidcConnectorConfig& o = c.oidc;
    const std::string here = path + "[" + std::to_string(i) + "]";
    auto str = [this](std::string* field) {
      return
          [this, field](const YAML::Node& n, const std::string& k) { return String(n, k, field); };
    };
    auto url = [this](std::string* field) {
      return [this, field](const YAML::Node& n, const std::string& k) {
        return HttpsUrl(n, k, field);
      };
    };
    auto list_of = [this](std::vector<std::string>* field) {
      return [this, field](const YAML::Node& n, const std::string& k) {
        return StringList(n, k, field);
      };
    };
    auto absolute = [this](std::string* field) {
      return [this, field](const YAML::Node& n, const std::string& k) -> Status {
        GATE_RETURN_IF_ERROR(String(n, k, field));
        if (field->front() != '/') {
          return At(n, k + ": must be an absolute path, got '" + *field + "'");
        }
        return Status::Ok();
      };
    };
    const std::vector<Field> fields = {
        {"name",
         [&](const YAML::Node& n, const std::string& k) -> Status {
           GATE_RETURN_IF_ERROR(String(n, k, &c.name));
           const bool ok =
               c.name.size() <= 64 && std::all_of(c.name.begin(), c.name.end(), [](char ch) {
                 return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
               });
           if (!ok) {
             return At(n,
                       k + ": '" + c.name + "' is not a valid connector name (use a-z, 0-9, '-')");
           }
           return Status::Ok();
         }},
        {"type",
         [&](const YAML::Node& n, const std::string& k) -> Status {
           GATE_RETURN_IF_ERROR(String(n, k, &c.type));
           if (c.type == "oidc") return Status::Ok();
           if (c.type == "github" || c.type == "saml") {
             return At(n, k + ": '" + c.type +
                              "' connectors are not supported by this version (use oidc)");
           }
           return At(n, k + ": unknown connector type '" + c.type + "' (use oidc)");
         }},
        {"issuer_url", url(&o.issuer_url)},
        {"client_id", str(&o.client_id)},
        {"client_secret_file", absolute(&o.client_secret_file)},
        {"redirect_url", url(&o.redirect_url)},
        {"scope", list_of(&o.scope)},
        {"username_claim", str(&o.username_claim)},
        {"logins_claim", str(&o.logins_claim)},
        {"claims_to_roles",
         [&](const YAML::Node& n, const std::string&) {
           return ClaimsToRoles(n, here, &o.claims_to_roles);
         }},
        {"acr_values", list_of(&o.acr_values)},
        {"prompt", str(&o.prompt)},
        {"ca_file", absolute(&o.ca_file)},
        {"token_endpoint_auth",
         [&](const YAML::Node& n, const std::string& k) -> Status {
           std::string s;
           GATE_RETURN_IF_ERROR(String(n, k, &s));
           if (s == "client_secret_basic") {
             o.token_endpoint_auth = TokenEndpointAuth::kClientSecretBasic;
           } else if (s == "client_secret_post") {
             o.token_endpoint_auth = TokenEndpointAuth::kClientSecretPost;
           } else {
             return At(n, k + ": unknown method '" + s +
                              "' (use client_secret_basic or client_secret_post)");
           }
           return Status::Ok();
         }},
    };
    GATE_RETURN_IF_ERROR(Section(item, here, fields));
    std::string missing;
    for (const auto& [key, value] : std::initializer_list<std::pair<const char*, std::string*>>{
             {"name", &c.name},
             {"type", &c.type},
             {"issuer_url", &o.issuer_url},
             {"client_id", &o.client_id},
             {"client_secret_file", &o.client_secret_file},
             {"redirect_url", &o.redirect_url}}) {
      if (value->empty()) missing += std::string(missing.empty() ? "" : ", ") + key;
    }
    if (!missing.empty())
      return At(item, "connector " + std::to_string(i + 1) + ": missing " + missing);
    if (o.claims_to_roles.empty()) {
      return At(item, "connector '" + c.name +
                          "': claims_to_roles is empty, so no one could log in through it");
    }
    if (std::find(o.scope.begin(), o.scope.end(), "openid") == o.scope.end()) {
      o.scope.insert(o.scope.begin(), "openid");
    }
    for (const auto& other : list) {
      if (other.name == c.name) return At(item, "duplicate connector name '" + c.name + "'");
    }
    list.push_back(std::move(c));
  }
  *out = std::move(list);
  return Status::Ok();
}

Status ConfigParser::ConnectorChecks(AuthenticationConfig& a) const {
  const std::string key = "auth_service.authentication.";
  if (a.type == "local") {
    if (!a.connector_name.empty()) {
      return AtKey(key + "connector_name", "connector_name is set but type is local");
    }
    return Status::Ok();
  }
  const ConnectorConfig* chosen = nullptr;
  for (const auto& c : a.connectors) {
    if (c.type != a.type) continue;
    if (a.connector_name.empty() || a.connector_name == c.name) {
      chosen = &c;
      break;
    }
  }
  if (chosen == nullptr) {
    if (!a.connector_name.empty()) {
      return AtKey(key + "connector_name", "connector_name: no " + a.type + " connector named '" +
                                               a.connector_name + "' in connectors");
    }
    return AtKey(key + "type",
                 "type is " + a.type + " but connectors has no " + a.type + " connector");
  }
  a.connector_name = chosen->name;
  return Status::Ok();
}

Status ConfigParser::LimitChecks(ServingLimits& l) const {
  const std::string p = "auth_service.limits.";
  const std::pair<const char*, ClassLimits*> classes[] = {{"login", &l.login},
                                                          {"node", &l.node},
                                                          {"upload", &l.upload},
                                                          {"api", &l.api},
                                                          {"admin", &l.admin}};
  for (const auto& [name, cls] : classes) {
    const std::string key = p + name + ".concurrency";
    if (!Seen(key)) {
      const int room = std::string_view(name) == "login" ? l.worker_threads - 1 : l.worker_threads;
      cls->concurrency = std::clamp(cls->concurrency, 1, std::max(1, room));
    }
    if (cls->concurrency > l.worker_threads) {
      return AtKey(Seen(key) ? key : p + "worker_threads",
                   std::string(name) + ".concurrency (" + std::to_string(cls->concurrency) +
                       ") is more than worker_threads (" + std::to_string(l.worker_threads) + ")");
    }
  }
  // The argon2 class must leave a worker to everything else, or a login
  // flood would hold every worker and starve node syncs and central OTP.
  if (l.worker_threads > 1 && l.login.concurrency >= l.worker_threads) {
    const std::string key = p + "login.concurrency";
    return AtKey(Seen(key) ? key : p + "worker_threads",
                 "login.concurrency (" + std::to_string(l.login.concurrency) +
                     ") must be less than worker_threads (" + std::to_string(l.worker_threads) +
                     "), so logins cannot hold every worker");
  }
  if (!Seen(p + "max_connections_per_source")) {
    l.max_connections_per_source = std::min(l.max_connections_per_source, l.max_connections);
  }
  if (!Seen(p + "connection_reserve")) {
    l.connection_reserve = std::min(l.connection_reserve, l.max_connections / 8);
  }
  if (l.max_connections_per_source > l.max_connections) {
    const std::string key = p + "max_connections_per_source";
    return AtKey(Seen(key) ? key : p + "max_connections",
                 "max_connections_per_source (" + std::to_string(l.max_connections_per_source) +
                     ") is more than max_connections (" + std::to_string(l.max_connections) + ")");
  }
  if (l.connection_reserve >= l.max_connections) {
    const std::string key = p + "connection_reserve";
    return AtKey(Seen(key) ? key : p + "max_connections",
                 "connection_reserve (" + std::to_string(l.connection_reserve) +
                     ") must be less than max_connections (" + std::to_string(l.max_connections) +
                     ")");
  }
  return Status::Ok();
}

Status ConfigParser::WebSessionChecks(const Config& c) const {
  constexpr std::chrono::seconds kMinIdle{60};
  constexpr std::chrono::seconds kMaxTtl{7 * 24 * 3600};
  if (c.web_idle_timeout < kMinIdle) {
    return AtKey(
        "auth_service.web_idle_timeout",
        "web_idle_timeout (" + FormatDuration(c.web_idle_timeout) + ") must be at least 1m");
  }
  if (c.web_session_ttl > kMaxTtl) {
    return AtKey("auth_service.web_session_ttl", "web_session_ttl (" +
                                                     FormatDuration(c.web_session_ttl) +
                                                     ") must be at most 7 days (168h)");
  }
  if (c.web_idle_timeout > c.web_session_ttl) {
    const std::string msg = "web_idle_timeout (" + FormatDuration(c.web_idle_timeout) +
                            ") is longer than web_session_ttl (" +
                            FormatDuration(c.web_session_ttl) + ")";
    return AtKey(Seen("auth_service.web_idle_timeout") ? "auth_service.web_idle_timeout"
                                                       : "auth_service.web_session_ttl",
                 msg);
  }
  return Status::Ok();
}

Status ConfigParser::CrossChecks(Config& c) const {
  if (c.cert_ttl > c.max_cert_ttl) {
    const std::string msg = "cert_ttl (" + FormatDuration(c.cert_ttl) +
                            ") is longer than max_cert_ttl (" + FormatDuration(c.max_cert_ttl) +
                            ")";
    return AtKey(
        Seen("auth_service.cert_ttl") ? "auth_service.cert_ttl" : "auth_service.max_cert_ttl", msg);
  }
  GATE_RETURN_IF_ERROR(WebSessionChecks(c));
  GATE_RETURN_IF_ERROR(ConnectorChecks(c.authentication));
  if (c.web_terminal.max_per_user > c.web_terminal.max_connections) {
    const std::string key = "auth_service.web_terminal.max_per_user";
    return AtKey(Seen(key) ? key : "auth_service.web_terminal.max_connections",
                 "web_terminal.max_per_user (" + std::to_string(c.web_terminal.max_per_user) +
                     ") is more than web_terminal.max_connections (" +
                     std::to_string(c.web_terminal.max_connections) + ")");
  }
  if (c.https_cert_file.empty() != c.https_key_file.empty()) {
    const bool have_cert = !c.https_cert_file.empty();
    return AtKey(have_cert ? "auth_service.https_cert_file" : "auth_service.https_key_file",
                 std::string(have_cert ? "https_cert_file" : "https_key_file") + " is set but " +
                     (have_cert ? "https_key_file" : "https_cert_file") +
                     " is not; set both or neither");
  }
  return LimitChecks(c.limits);
}

Result<Config> ConfigParser::Parse(std::string_view text) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    return Err(At(e.mark, "invalid YAML: " + e.msg));
  }
  if (docs.size() > 1) return Err(At(docs[1], "only one YAML document is allowed"));

  Config c;
  c.limits = DefaultServingLimits(std::thread::hardware_concurrency());
  auto str = [this](std::string* out) {
    return [this, out](const YAML::Node& v, const std::string& k) { return String(v, k, out); };
  };
  auto dur = [this](std::chrono::seconds* out) {
    return [this, out](const YAML::Node& v, const std::string& k) { return Duration(v, k, out); };
  };

  constexpr std::size_t kMaxOrigins = 16;
  const std::vector<Field> webauthn = {
      {"rp_id", str(&c.authentication.webauthn.rp_id)},
      {"origins",
       [&](const YAML::Node& v, const std::string& k) -> Status {
         if (!v.IsSequence() || v.size() == 0 || v.size() > kMaxOrigins) {
           return At(v, k + ": expected a list of 1 to 16 origins");
         }
         c.authentication.webauthn.origins.clear();
         for (const YAML::Node& item : v) {
           std::string origin;
           GATE_RETURN_IF_ERROR(String(item, k, &origin));
           c.authentication.webauthn.origins.push_back(std::move(origin));
         }
         return Status::Ok();
       }},
  };
  const std::vector<Field> authentication = {
      {"type",
       [&](const YAML::Node& v, const std::string& k) -> Status {
         std::string s;
         GATE_RETURN_IF_ERROR(Scalar(v, k, &s));
         if (s == "local" || s == "oidc") {
           c.authentication.type = s;
           return Status::Ok();
         }
         if (s == "github" || s == "saml") {
           return At(v, k + ": '" + s + "' is not supported by this version (use local or oidc)");
         }
         return At(v, k + ": unknown authentication type '" + s + "' (use local or oidc)");
       }},
      {"connector_name", str(&c.authentication.connector_name)},
      {"connectors",
       [&](const YAML::Node& v, const std::string&) -> Status {
         return Connectors(v, &c.authentication.connectors);
       }},
      {"second_factor",
       [&](const YAML::Node& v, const std::string& k) -> Status {
         std::string s;
         GATE_RETURN_IF_ERROR(Scalar(v, k, &s));
         for (SecondFactor f : {SecondFactor::kOtp, SecondFactor::kOn, SecondFactor::kOptional,
                                SecondFactor::kOff}) {
           if (s == SecondFactorName(f)) {
             c.authentication.second_factor = f;
             return Status::Ok();
           }
         }
         // Keys only would lock every user out: no path registers a key
         // for a user who has none yet (signup offers an OTP app).
         if (s == "webauthn") {
           return At(v, k + ": 'webauthn' (security keys only) is not supported by this version:"
                            " keys cannot yet be registered at signup; use on or otp");
         }
         if (s == "u2f") return At(v, k + ": 'u2f' is not supported (use on, otp or off)");
         return At(v, k + ": unknown second factor '" + s + "' (use otp, on, optional or off)");
       }},
      {"webauthn",
       [&](const YAML::Node& v, const std::string& k) -> Status {
         return Section(v, "auth_service.authentication." + k, webauthn);
       }},
      // Below 8, a password falls to an online guesser within the lockout
      // budget; NIST SP 800-63B sets the same floor.
      {"password_min_length",
       [&](const YAML::Node& v, const std::string& k) -> Status {
         return Int(v, k, 8, 1024, &c.authentication.password_min_length);
       }},
      {"lockout_attempts",
       [&](const YAML::Node& v, const std::string& k) -> Status {
         return Int(v, k, 1, 1000000, &c.authentication.lockout_attempts);
       }},
      {"lockout_duration", dur(&c.authentication.lockout_duration)},
  };
  const std::vector<Field> rate_limit = {
      {"per_minute",
       [&](const YAML::Node& v, const std::string& k) -> Status {
         return Int(v, k, 1, 1000000, &c.rate_limit.per_minute);
       }},
      {"burst",
       [&](const YAML::Node& v, const std::string& k) -> Status {
         return Int(v, k, 1, 1000000, &c.rate_limit.burst);
       }},
  };
  // Bounds that keep a typo from making gate-ca unusable or unbounded.
  constexpr int kMaxThreads = 1024;
  constexpr int kMaxQueue = 100000;
  constexpr auto kMaxTimeout = std::chrono::seconds(3600);
  auto num = [this](int min, int max, int* out) {
    return [this, min, max, out](const YAML::Node& v, const std::string& k) {
      return Int(v, k, min, max, out);
    };
  };
  // Each open terminal is a thread and an SSH connection: bounded.
  const std::vector<Field> web_terminal = {
      {"max_connections", num(1, 4096, &c.web_terminal.max_connections)},
      {"max_per_user", num(1, 4096, &c.web_terminal.max_per_user)},
  };
  auto timeout = [this, kMaxTimeout](std::chrono::seconds* out) {
    return [this, kMaxTimeout, out](const YAML::Node& v, const std::string& k) {
      return Timeout(v, k, kMaxTimeout, out);
    };
  };
  // name: a string literal (Field keeps a view of it).
  auto traffic_class = [&](const char* name, ClassLimits* out) -> Field {
    return {name, [&, name, out](const YAML::Node& v, const std::string&) -> Status {
              std::vector<Field> fields = {{"concurrency", num(1, kMaxThreads, &out->concurrency)},
                                           {"queue", num(0, kMaxQueue, &out->queue)}};
              // Only logins are bulk CPU work worth running at a lower priority.
              if (out == &c.limits.login) fields.push_back({"nice", num(0, 19, &out->nice)});
              return Section(v, std::string("auth_service.limits.") + name, fields);
            }};
  };
  const std::vector<Field> limits = {
      {"worker_threads", num(1, kMaxThreads, &c.limits.worker_threads)},
      {"max_connections", num(1, 1000000, &c.limits.max_connections)},
      {"max_connections_per_source", num(1, 1000000, &c.limits.max_connections_per_source)},
      {"connection_reserve", num(0, 1000000, &c.limits.connection_reserve)},
      {"handshake_timeout", timeout(&c.limits.handshake_timeout)},
      {"header_timeout", timeout(&c.limits.header_timeout)},
      {"body_timeout", timeout(&c.limits.body_timeout)},
      {"idle_timeout", timeout(&c.limits.idle_timeout)},
      {"queue_timeout", timeout(&c.limits.queue_timeout)},
      traffic_class("login", &c.limits.login),
      traffic_class("node", &c.limits.node),
      traffic_class("upload", &c.limits.upload),
      traffic_class("api", &c.limits.api),
      traffic_class("admin", &c.limits.admin),
  };
  const std::vector<Field> auth_service = {
      {"listen_addr",
       [&](const YAML::Node& v, const std::string& k) -> Status {
         return Address(v, k, 3080, &c.listen_addr);
       }},
      // Its default port is the listen port, which may come later in the
      // file: keep the text and resolve it after the walk.
      {"public_addr",
       [&](const YAML::Node& v, const std::string& k) -> Status {
         public_addr_mark_ = v.Mark();
         return String(v, k, &public_addr_text_);
       }},
      {"https_cert_file", str(&c.https_cert_file)},
      {"https_key_file", str(&c.https_key_file)},
      {"cert_ttl", dur(&c.cert_ttl)},
      {"max_cert_ttl", dur(&c.max_cert_ttl)},
      {"signup_token_ttl", dur(&c.signup_token_ttl)},
      {"web_idle_timeout", dur(&c.web_idle_timeout)},
      {"web_session_ttl", dur(&c.web_session_ttl)},
      {"web_terminal",
       [&](const YAML::Node& v, const std::string&) -> Status {
         return Section(v, "auth_service.web_terminal", web_terminal);
       }},
      {"authentication",
       [&](const YAML::Node& v, const std::string&) -> Status {
         return Section(v, "auth_service.authentication", authentication);
       }},
      {"rate_limit",
       [&](const YAML::Node& v, const std::string&) -> Status {
         return Section(v, "auth_service.rate_limit", rate_limit);
       }},
      {"limits",
       [&](const YAML::Node& v, const std::string&) -> Status {
         return Section(v, "auth_service.limits", limits);
       }},
  };
  const std::vector<Field> top = {
      // The name goes into certificates, file names and log lines; keep it to
      // host-name characters. (This also catches a quote left open: yaml-cpp
      // 0.7 silently runs an unterminated "..." on into the next lines.)
      {"cluster_name",
       [&](const YAML::Node& v, const std::string& k) -> Status {
         GATE_RETURN_IF_ERROR(String(v, k, &c.cluster_name));
         if (!ValidClusterName(c.cluster_name)) {
           return At(v, k + ": '" + c.cluster_name +
                            "' is not a valid name (use letters, digits, '.', '_', '-')");
         }
         return Status::Ok();
       }},
      {"data_dir",
       [&](const YAML::Node& v, const std::string& k) -> Status {
         GATE_RETURN_IF_ERROR(String(v, k, &c.data_dir));
         if (c.data_dir.front() != '/') {
           return At(v, k + ": must be an absolute path, got '" + c.data_dir + "'");
         }
         return Status::Ok();
       }},
      {"auth_service",
       [&](const YAML::Node& v, const std::string&) -> Status {
         return Section(v, "auth_service", auth_service);
       }},
  };

  try {
    if (!docs.empty()) GATE_RETURN_IF_ERROR(Section(docs[0], "", top));
  } catch (const YAML::Exception& e) {
    return Err(At(e.mark, e.msg));
  }

  if (!public_addr_text_.empty()) {
    auto hp = ParseHostPort(public_addr_text_, c.listen_addr.port);
    if (!hp) return Err(At(public_addr_mark_, "public_addr: " + hp.error().message()));
    c.public_addr = std::move(*hp);
    c.public_addr_set = true;
  }
  GATE_RETURN_IF_ERROR(CrossChecks(c));

  const std::string host = HostName();
  if (c.cluster_name.empty()) c.cluster_name = host;
  if (c.public_addr.host.empty()) c.public_addr = HostPort{host, c.listen_addr.port};
  GATE_RETURN_IF_ERROR(WebauthnChecks(c));
  return c;
}

Status ConfigParser::WebauthnChecks(Config& c) const {
  WebauthnConfig& w = c.authentication.webauthn;
  const WebauthnConfig defaults = config_internal::DefaultWebauthn(c.public_addr);
  const bool rp_id_set = !w.rp_id.empty();
  const bool set = rp_id_set || !w.origins.empty();
  if (!rp_id_set) w.rp_id = defaults.rp_id;
  if (w.origins.empty()) {
    // Origins under a configured rp_id default to the rp_id itself.
    w.origins = rp_id_set && w.rp_id != c.public_addr.host
                    ? std::vector<std::string>{"https://" + w.rp_id}
                    : defaults.origins;
  }
  // Checked when keys can be used (on, optional) or the section was
  // written; with otp or off an unusable default (public_addr an IP
  // address) harms nothing.
  const auto mode = c.authentication.second_factor;
  if (!set && mode != SecondFactor::kOn && mode != SecondFactor::kOptional) {
    return Status::Ok();
  }
  const std::string where = "auth_service.authentication.webauthn";
  if (Status s = config_internal::CheckRpId(w.rp_id); !s.ok()) {
    return AtKey(
        rp_id_set ? where + ".rp_id" : "auth_service.authentication.second_factor",
        "webauthn." + s.message() + (rp_id_set ? "" : " (from public_addr; set webauthn.rp_id)"));
  }
  for (const std::string& origin : w.origins) {
    if (Status s = config_internal::CheckOrigin(origin, w.rp_id); !s.ok()) {
      return AtKey(Seen(where + ".origins") ? where + ".origins" : where + ".rp_id",
                   "webauthn." + s.message());
    }
  }
  return Status::Ok();
}

}  // namespace

std::string_view SecondFactorName(SecondFactor f) {
  switch (f) {
    case SecondFactor::kOtp:
      return "otp";
    case SecondFactor::kOff:
      return "off";
    case SecondFactor::kOn:
      return "on";
    case SecondFactor::kOptional:
      return "optional";
    case SecondFactor::kWebauthn:
      return "webauthn";
  }
  return "otp";
}

bool SecondFactorRequired(SecondFactor f) {
  return f == SecondFactor::kOtp || f == SecondFactor::kOn || f == SecondFactor::kWebauthn;
}

std::string HostPort::ToString() const {
  std::string out;
  if (host.find(':') != std::string::npos) {
    out = "[" + host + "]";
  } else {
    out = host;
  }
  return out + ":" + std::to_string(port);
}

Result<HostPort> ParseHostPort(std::string_view text, std::uint16_t default_port) {
  const std::string whole(text);
  HostPort out;
  std::string_view port_text;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return Err(InvalidArgument("invalid address '" + whole + "': missing ']'"));
    }
    out.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return Err(InvalidArgument("invalid address '" + whole + "' (use [host]:port)"));
      }
      port_text = rest.substr(1);
      has_port = true;
    }
    if (out.host.find(':') == std::string::npos || !ValidHost(out.host)) {
      return Err(InvalidArgument("invalid IPv6 address in '" + whole + "'"));
    }
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon != std::string_view::npos) {
      if (text.find(':') != colon) {
        return Err(InvalidArgument("invalid address '" + whole +
                                   "': put IPv6 addresses in brackets ([::1]:3080)"));
      }
      out.host = std::string(text.substr(0, colon));
      port_text = text.substr(colon + 1);
      has_port = true;
    } else {
      out.host = whole;
    }
    if (!ValidHost(out.host)) {
      return Err(InvalidArgument("invalid address '" + whole + "' (use host:port)"));
    }
  }
  if (has_port) {
    auto port = ParsePort(port_text, text);
    if (!port) return Err(port.error());
    out.port = *port;
  } else if (default_port != 0) {
    out.port = default_port;
  } else {
    return Err(InvalidArgument("address '" + whole + "' has no port (use host:port)"));
  }
  return out;
}

Result<std::string> CanonicalSshAddress(std::string_view text) {
  auto parsed = ParseHostPort(text, kDefaultSshPort);
  if (!parsed) return Err(parsed.error().WithContext("ssh address"));
  return parsed->ToString();
}

ServingLimits DefaultServingLimits(unsigned cores) {
  const int n = static_cast<int>(std::clamp<unsigned>(cores, 1, 256));
  ServingLimits l;
  l.worker_threads = std::max(4, 2 * n);
  l.login = {std::max(1, n / 2), 32 * std::max(1, n / 2), 10};
  l.node = {std::max(2, n), 256};
  l.upload = {std::max(1, n / 2), 64};
  l.api = {std::max(2, n), 128};
  l.admin = {2, 64};
  return l;
}

Config DefaultConfig() {
  Config c;
  c.limits = DefaultServingLimits(std::thread::hardware_concurrency());
  const std::string host = HostName();
  c.cluster_name = host;
  c.public_addr = HostPort{host, c.listen_addr.port};
  c.authentication.webauthn = config_internal::DefaultWebauthn(c.public_addr);
  return c;
}

Result<Config> ParseConfig(std::string_view yaml_text, std::string_view name) {
  return ConfigParser(name).Parse(yaml_text);
}

Result<Config> LoadConfig(const std::string& path, bool missing_ok) {
  // gate.yaml decides things like whether a second factor is required, so
  // it gets the same open discipline as a secret, minus the read check:
  // no symlink, owned by root (or us), not writable by group/others.
  FilePolicy policy;
  policy.allowed_owners = {0};
  if (::geteuid() != 0) policy.allowed_owners.push_back(::geteuid());
  policy.secret = false;
  policy.max_size = kMaxConfigSize;
  auto text = ReadSecureFile(path, policy);
  if (!text) {
    if (missing_ok && text.error().code() == Code::kNotFound) return DefaultConfig();
    return Err(text.error());
  }
  return ParseConfig(text->view(), path);
}

}  // namespace gate
