#include "sshd-hooks/principals/principals.h"

#include <algorithm>
#include <charconv>
#include <exception>
#include <limits>
#include <optional>

#include "gate/bytes.h"
#include "gate/certificate.h"
#include "gate/duration.h"
#include "gate/policy.h"
#include "gate/ssh_wire.h"
#include "sshd-hooks/principals/drop_in.h"

namespace gate::hooks {
namespace {

// A certificate blob is capped at 64 KiB (ssh_wire.h); its base64 is 4/3 of
// that. Anything longer is refused before decoding it.
constexpr std::size_t kMaxKeyBase64 = (ssh::kMaxStringLength + 2) / 3 * 4;

PrincipalsDecision Deny(PrincipalsDecision d, std::string reason) {
  d.allow = false;
  d.reason = std::move(reason);
  return d;
}

PrincipalsDecision Decide(const node::CacheLocation& cache, const PrincipalsQuery& query,
                          const StalenessRule& staleness,
                          std::optional<ssh::Ed25519PublicKey>& ca) {
  PrincipalsDecision d;
  if (query.login.empty()) return Deny(d, "no login given");
  if (query.key_type != ssh::kEd25519CertType) {
    return Deny(d, "key type is not " + std::string(ssh::kEd25519CertType));
  }
  if (query.key_base64.size() > kMaxKeyBase64) return Deny(d, "certificate too large");
  auto blob = Base64Decode(query.key_base64);
  if (!blob) return Deny(d, "certificate is not valid base64");
  // sshd verified the signature before running us; the CA is checked below.
  auto cert = ssh::ParseCertificateVerifiedBySshd(*blob);
  if (!cert) return Deny(d, "bad certificate: " + cert.error().message());
  d.key_id = cert->spec.key_id;
  d.serial = cert->spec.serial;
  ca = cert->signature_key;

  if (cert->spec.type != ssh::CertType::kUser) return Deny(d, "not a user certificate");
  if (query.now < 0) return Deny(d, "clock before the epoch");
  if (Status s = ssh::CheckValidity(*cert, static_cast<std::uint64_t>(query.now)); !s.ok()) {
    return Deny(d, s.message());
  }
  const auto& principals = cert->spec.principals;
  if (std::find(principals.begin(), principals.end(), query.login) == principals.end()) {
    return Deny(d, "login is not one of the certificate's principals");
  }

  if (Status s = node::CheckCacheDir(cache); !s.ok()) return Deny(d, "cache: " + s.message());
  const StalenessVerdict stale = JudgeStaleness(staleness, node::ReadSyncStamp(cache), query.now);
  if (stale.deny) return Deny(d, stale.reason + "; stale_cache is deny");
  d.warning = stale.reason;
  auto cas = node::ReadUserCaKeys(cache);
  if (!cas) return Deny(d, "cache: " + cas.error().message());
  if (std::find(cas->begin(), cas->end(), cert->signature_key) == cas->end()) {
    return Deny(d, "certificate signed by a CA not in " + cache.UserCaPath());
  }
  auto snapshot = node::ReadLoginSnapshot(cache, cert->spec.key_id, cert->spec.serial);
  if (!snapshot) return Deny(d, "cache: " + snapshot.error().message());

  policy::LoginRequest request;
  request.user = cert->spec.key_id;
  request.login = query.login;
  request.serial = cert->spec.serial;
  request.now = query.now;
  const policy::Decision decision = policy::DecideLogin(*snapshot, request);
  if (!decision.allow) return Deny(d, "policy: " + decision.reason);
  d.allow = true;
  d.record = decision.record;
  d.reason = decision.reason.empty() ? "policy allows" : "policy: " + decision.reason;
  if (d.record) d.reason += "; session recorded";
  return d;
}

// A uid or gid for --cache-owner / --cache-group.
Result<unsigned> ParseId(std::string_view text, std::string_view flag) {
  unsigned long long v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  // uid_t(-1) means "no change" to chown() and friends; never a real owner.
  if (text.empty() || ec != std::errc() || ptr != end || v >= std::numeric_limits<uid_t>::max()) {
    return Err(InvalidArgument(std::string(flag) + ": '" + std::string(text) + "' is not an id"));
  }
  return static_cast<unsigned>(v);
}

}  // namespace

PrincipalsDecision DecidePrincipals(const node::CacheLocation& cache, const PrincipalsQuery& query,
                                    const StalenessRule& staleness) noexcept {
  try {
    std::optional<ssh::Ed25519PublicKey> ca;
    PrincipalsDecision d = Decide(cache, query, staleness, ca);
    // Only denials name the CA: sshd's own "Accepted publickey" line already
    // does for logins. By the fingerprint sync recorded in the cache, not a
    // hash computed here: this program does not link libcrypto, whose load
    // would cost every login. A CA the cache does not list with one (another
    // CA's, or an older gate-node's cache) is named by its key instead.
    if (!d.allow && ca) {
      d.ca_fingerprint = node::RecordedUserCaFingerprint(cache, *ca);
      if (d.ca_fingerprint.empty()) d.ca_fingerprint = Base64Encode(ca->Blob());
    }
    return d;
  } catch (const std::exception& e) {
    PrincipalsDecision d;
    d.reason = std::string("internal error: ") + e.what();
    return d;
  } catch (...) {
    PrincipalsDecision d;
    d.reason = "internal error";
    return d;
  }
}

std::string FormatDecisionLog(const PrincipalsQuery& query, const PrincipalsDecision& decision) {
  std::string line = decision.allow ? "allow" : "deny";
  line += " login=" + query.login;
  if (!decision.key_id.empty()) line += " user=" + decision.key_id;
  if (!decision.key_id.empty()) line += " serial=" + std::to_string(decision.serial);
  if (!decision.ca_fingerprint.empty()) line += " ca=" + decision.ca_fingerprint;
  if (!decision.reason.empty()) line += ": " + decision.reason;
  return line;
}

std::string FormatPrincipalLine(const PrincipalsQuery& query, const PrincipalsDecision& decision,
                                std::string_view record_command, std::string_view record_config) {
  if (!decision.allow) return "";
  if (!decision.record) return query.login + "\n";
  std::string command(record_command);
  if (!record_config.empty()) command += " --config " + std::string(record_config);
  // no-port-forwarding: sshd would forward (-L, -R, -D, -W, Unix sockets)
  // out of the recorder's sight; recorded users forward through it.
  return "no-port-forwarding,command=\"" + command + "\" " + query.login + "\n";
}

Status ValidateRecordCommand(std::string_view path, std::string_view flag) {
  return ValidateConfigPath(flag, path);
}

Result<PrincipalsArgs> ParsePrincipalsArgs(int argc, const char* const* argv) {
  PrincipalsArgs args;
  std::vector<std::string_view> positionals;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    if (argv[i] == nullptr) break;
    const std::string_view arg = argv[i];
    if (options_done || arg.empty() || arg.front() != '-' || arg == "-") {
      positionals.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      args.help = true;
      continue;
    }
    // --name VALUE or --name=VALUE
    std::string_view name = arg;
    std::string_view value;
    bool has_value = false;
    if (const std::size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    if (name != "--cache" && name != "--cache-owner" && name != "--cache-group" &&
        name != "--stale-cache" && name != "--max-cache-age" && name != "--record-command" &&
        name != "--record-config") {
      return Err(InvalidArgument("unknown option " + std::string(name)));
    }
    if (!has_value) {
      if (i + 1 >= argc || argv[i + 1] == nullptr) {
        return Err(InvalidArgument(std::string(name) + " needs a value"));
      }
      value = argv[++i];
    }
    if (name == "--cache") {
      if (value.empty()) return Err(InvalidArgument("--cache needs a directory"));
      args.cache.dir = std::string(value);
    } else if (name == "--record-command") {
      GATE_RETURN_IF_ERROR(ValidateRecordCommand(value));
      args.record_command = std::string(value);
    } else if (name == "--record-config") {
      GATE_RETURN_IF_ERROR(ValidateRecordCommand(value, "--record-config"));
      args.record_config = std::string(value);
    } else if (name == "--stale-cache") {
      auto mode = ParseStaleCache(value);
      if (!mode) return Err(mode.error().WithContext("--stale-cache"));
      args.staleness.mode = *mode;
    } else if (name == "--max-cache-age") {
      auto age = ParseDuration(value);
      if (!age) return Err(age.error().WithContext("--max-cache-age"));
      args.staleness.max_age = *age;
    } else if (name == "--cache-group") {
      auto gid = ParseId(value, name);
      if (!gid) return Err(gid.error());
      args.cache.group = static_cast<gid_t>(*gid);
    } else {
      auto uid = ParseId(value, name);
      if (!uid) return Err(uid.error());
      args.cache.owner = static_cast<uid_t>(*uid);
    }
  }
  if (args.help) return args;
  if (positionals.size() != 3) {
    return Err(InvalidArgument("expected USER KEYTYPE BASE64KEY, got " +
                               std::to_string(positionals.size()) + " argument(s)"));
  }
  args.login = std::string(positionals[0]);
  args.key_type = std::string(positionals[1]);
  args.key_base64 = std::string(positionals[2]);
  return args;
}

}  // namespace gate::hooks
