#include "sshd-hooks/principals/drop_in.h"

#include "gate/duration.h"
#include "gate/names.h"
#include "sshd-hooks/principals/principals.h"

namespace gate::hooks {

std::string RenderDropIn(const DropInSettings& s) {
  std::string out(kDropInHeader);
  out += '\n';
  out += "TrustedUserCAKeys " + s.cache_dir + "/user_ca.pub\n";
  out += "RevokedKeys " + s.cache_dir + "/revoked.krl\n";
  out += "HostCertificate " + s.host_certificate + "\n";
  out += "AuthorizedPrincipalsCommand " + PrincipalsCommandOf(s) + "\n";
  out += "AuthorizedPrincipalsCommandUser " + s.principals_user + "\n";
  // The recorder reads the certificate sshd accepted from SSH_USER_AUTH.
  out += "ExposeAuthInfo yes\n";
  if (s.record_all_sessions) {
    // sshd forwards ports itself, out of the recorder's sight: on a node
    // that records every session, forwarding goes through the recorder
    // (gate-forward), which checks the role and audits it.
    out += "AllowTcpForwarding no\n";
    out += "AllowStreamLocalForwarding no\n";
    out += "PermitTunnel no\n";
    out += "ForceCommand " + RecordCommandOf(s) + "\n";
  }
  return out;
}

std::string PrincipalsCommandOf(const DropInSettings& s) {
  std::string out = s.principals_command + " --cache " + s.cache_dir;
  if (s.staleness.mode == StaleCache::kDeny) out += " --stale-cache deny";
  if (s.staleness.mode == StaleCache::kDeny || s.staleness.max_age != kDefaultMaxCacheAge) {
    out += " --max-cache-age " + FormatDuration(s.staleness.max_age);
  }
  if (!s.record_command.empty()) out += " --record-command " + s.record_command;
  if (!s.record_config.empty()) out += " --record-config " + s.record_config;
  return out + " %u %t %k";
}

std::string RecordCommandOf(const DropInSettings& s) {
  std::string out =
      s.record_command.empty() ? std::string(kDefaultRecordCommand) : s.record_command;
  if (!s.record_config.empty()) out += " --config " + s.record_config;
  return out;
}

Status ValidateConfigPath(std::string_view what, std::string_view path) {
  if (path.empty() || path.front() != '/') {
    return InvalidArgument(std::string(what) + " must be an absolute path, not '" +
                           std::string(path) + "'");
  }
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || u == 0x7f || c == '"' || c == '\'' || c == '\\' || c == '%' || c == '#') {
      return InvalidArgument(std::string(what) + " '" + std::string(path) +
                             "' contains a character sshd_config would not take literally "
                             "(whitespace, quotes, backslash, '%' or '#')");
    }
  }
  return Status::Ok();
}

Status ValidateDropIn(const DropInSettings& s) {
  GATE_RETURN_IF_ERROR(ValidateConfigPath("the cache directory", s.cache_dir));
  GATE_RETURN_IF_ERROR(ValidateConfigPath("the host certificate path", s.host_certificate));
  GATE_RETURN_IF_ERROR(ValidateConfigPath("--principals-command", s.principals_command));
  if (!s.record_command.empty()) {
    GATE_RETURN_IF_ERROR(ValidateConfigPath("--recorder-command", s.record_command));
  }
  if (!s.record_config.empty()) {
    GATE_RETURN_IF_ERROR(ValidateConfigPath("--recorder-config", s.record_config));
  }
  if (Status st = ValidateLogin(s.principals_user); !st.ok()) {
    return st.WithContext("--principals-user");
  }
  return Status::Ok();
}

}  // namespace gate::hooks
