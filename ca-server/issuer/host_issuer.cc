#include "ca-server/issuer/host_issuer.h"

#include <algorithm>
#include <cctype>

#include "ca-server/auth/node_auth.h"

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

namespace {

bool SameHostName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool Contains(const std::vector<std::string>& names, std::string_view name) {
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return SameHostName(n, name); });
}

}  // namespace

std::vector<std::string> UnapprovedHostNames(const std::vector<std::string>& asked,
                                             const std::vector<std::string>& approved) {
  std::vector<std::string> out;
  for (const std::string& name : asked) {
    if (!Contains(approved, name)) out.push_back(name);
  }
  return out;
}

std::string FormatHostNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

std::vector<std::string> HostNamesWith(const std::string& hostname,
                                       const std::vector<std::string>& extra) {
  std::vector<std::string> out{hostname};
  for (const std::string& name : extra) {
    if (!Contains(out, name)) out.push_back(name);
  }
  return out;
}

Result<ssh::Certificate> HostIssuer::IssueHostCertificate(
    const std::string& host_uuid, const ssh::Ed25519PublicKey& key,
    const std::vector<std::string>& principals, const std::string& source) const {
  if (!LooksLikeHostUuid(host_uuid)) return Err(InvalidArgument("malformed host UUID"));
  GATE_RETURN_IF_ERROR(ValidateHostPrincipals(principals));
  return ca_.SignHostCertificate({host_uuid, key, principals, source});
}

}  // namespace gate::ca
