#include "ca-server/issuer/host_issuer.h"

#include <algorithm>

#include "ca-server/auth/node_auth.h"
#include "gate/bytes.h"

namespace gate::ca {
namespace {

bool IsPrincipalChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == ':';
}

// Echoes only characters that are safe in a message (the rest become '?').
std::string Quoted(std::string_view s) {
  std::string out = "'";
  for (char c : s.substr(0, 64)) out += IsPrincipalChar(c) ? c : '?';
  if (s.size() > 64) out += "...";
  return out + "'";
}

}  // namespace

Status ValidateHostPrincipal(std::string_view principal) {
  if (principal.empty() || principal.size() > kMaxHostPrincipalLength) {
    return InvalidArgument("host principal " + Quoted(principal) + " must be 1 to " +
                           std::to_string(kMaxHostPrincipalLength) + " characters");
  }
  if (principal.front() == '-') {
    return InvalidArgument("host principal " + Quoted(principal) + " must not start with '-'");
  }
  if (!std::all_of(principal.begin(), principal.end(), IsPrincipalChar)) {
    return InvalidArgument("host principal " + Quoted(principal) +
                           " may contain only letters, digits and . - :");
  }
  return Status::Ok();
}

Status ValidateHostPrincipals(const std::vector<std::string>& principals) {
  if (principals.empty() || principals.size() > kMaxHostPrincipals) {
    return InvalidArgument("a host certificate needs 1 to " + std::to_string(kMaxHostPrincipals) +
                           " principals");
  }
  for (std::size_t i = 0; i < principals.size(); ++i) {
    GATE_RETURN_IF_ERROR(ValidateHostPrincipal(principals[i]));
    if (std::find(principals.begin(), principals.begin() + static_cast<std::ptrdiff_t>(i),
                  principals[i]) != principals.begin() + static_cast<std::ptrdiff_t>(i)) {
      return InvalidArgument("host principal " + Quoted(principals[i]) + " is repeated");
    }
  }
  return Status::Ok();
}

Result<ssh::Certificate> HostIssuer::IssueHostCertificate(
    const std::string& host_uuid, const ssh::Ed25519PublicKey& key,
    const std::vector<std::string>& principals, std::int64_t now) const {
  if (!LooksLikeHostUuid(host_uuid)) return Err(InvalidArgument("malformed host UUID"));
  GATE_RETURN_IF_ERROR(ValidateHostPrincipals(principals));
  ssh::CertificateSpec spec;
  spec.type = ssh::CertType::kHost;
  spec.public_key = key;
  spec.key_id = host_uuid;
  spec.principals = principals;
  spec.valid_after = static_cast<std::uint64_t>(now - options_.backdate.count());
  spec.valid_before = static_cast<std::uint64_t>(now + options_.ttl.count());
  // Host certificate serials are not recorded: nothing revokes host
  // certificates by serial (a node that leaves loses its credential, and a
  // compromised host key is revoked by key), but 0 still reads as "no
  // serial" in OpenSSH tools.
  do {
    auto serial = RandomU64();
    if (!serial) return Err(serial.error());
    spec.serial = *serial;
  } while (spec.serial == 0);
  return ssh::SignCertificate(spec, host_ca_);
}

}  // namespace gate::ca
