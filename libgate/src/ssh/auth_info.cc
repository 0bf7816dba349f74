#include "gate/auth_info.h"

namespace gate::ssh {

std::vector<AuthInfoCertificate> AuthInfoCertificates(std::string_view auth_info) {
  constexpr std::string_view kCertSuffix = "-cert-v01@openssh.com";
  std::vector<AuthInfoCertificate> out;
  std::size_t line_no = 0;
  while (!auth_info.empty()) {
    ++line_no;
    const std::size_t nl = auth_info.find('\n');
    const std::string_view line = auth_info.substr(0, nl);
    auth_info.remove_prefix(nl == std::string_view::npos ? auth_info.size() : nl + 1);
    // "publickey TYPE BASE64"; sshd writes no comment, but tolerate one.
    const std::size_t sp = line.find(' ');
    if (sp == std::string_view::npos || line.substr(0, sp) != "publickey") continue;
    const std::string_view key = line.substr(sp + 1);
    const std::string_view type = key.substr(0, key.find(' '));
    if (type.size() < kCertSuffix.size() ||
        type.substr(type.size() - kCertSuffix.size()) != kCertSuffix) {
      continue;
    }
    out.push_back({line_no, key});
  }
  return out;
}

}  // namespace gate::ssh
