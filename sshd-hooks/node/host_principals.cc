#include "sshd-hooks/node/host_principals.h"

#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace gate::hooks {
namespace {

bool IsPrincipalChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == ':';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void AddUnique(std::vector<std::string>& out, const std::string& name) {
  if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
}

}  // namespace

Status ValidateHostPrincipal(std::string_view name) {
  if (name.empty() || name.size() > 253 || name.front() == '-' ||
      !std::all_of(name.begin(), name.end(), IsPrincipalChar)) {
    return InvalidArgument("'" + std::string(name) +
                           "' is not a host name or address (1-253 of A-Z a-z 0-9 . : -, not "
                           "starting with -)");
  }
  return Status::Ok();
}

Result<std::vector<std::string>> ParseHostPrincipals(std::string_view list) {
  std::vector<std::string> out;
  while (true) {
    const std::size_t comma = list.find(',');
    const std::string_view item = Trim(list.substr(0, comma));
    if (item.empty()) return Err(InvalidArgument("empty name in principal list"));
    GATE_RETURN_IF_ERROR(ValidateHostPrincipal(item));
    AddUnique(out, std::string(item));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

Result<std::vector<std::string>> MergeHostPrincipals(const std::string& hostname,
                                                     const std::vector<std::string>& extra) {
  std::vector<std::string> out;
  GATE_RETURN_IF_ERROR(ValidateHostPrincipal(hostname).WithContext("host name"));
  AddUnique(out, hostname);
  for (const auto& name : extra) {
    GATE_RETURN_IF_ERROR(ValidateHostPrincipal(name));
    AddUnique(out, name);
  }
  if (out.size() > kMaxHostPrincipals) {
    return Err(InvalidArgument("too many principals (" + std::to_string(out.size()) +
                               "; gate-ca issues at most " + std::to_string(kMaxHostPrincipals) +
                               ")"));
  }
  return out;
}

Result<std::string> LocalHostname() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) {
    return Err(Internal(std::string("gethostname: ") + std::strerror(errno)));
  }
  return std::string(buf);
}

}  // namespace gate::hooks
