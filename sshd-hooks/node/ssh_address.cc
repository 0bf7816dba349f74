#include "sshd-hooks/node/ssh_address.h"

#include <charconv>
#include <cstdint>

#include "gate/config.h"

namespace gate::hooks {
namespace {

bool IsWildcard(const std::string& host) { return host == "0.0.0.0" || host == "::"; }

std::uint16_t PortOf(const std::map<std::string, std::string>& settings) {
  auto it = settings.find("port");
  if (it == settings.end()) return kDefaultSshPort;
  unsigned value = 0;
  const char* begin = it->second.data();
  const char* end = begin + it->second.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end || value == 0 || value > 65535) return kDefaultSshPort;
  return static_cast<std::uint16_t>(value);
}

}  // namespace

std::string DefaultSshAddress(const std::map<std::string, std::string>& sshd_settings,
                              const std::string& hostname) {
  if (auto it = sshd_settings.find("listenaddress"); it != sshd_settings.end()) {
    auto listen = ParseHostPort(it->second);
    if (listen && !IsWildcard(listen->host)) return listen->ToString();
  }
  return HostPort{hostname, PortOf(sshd_settings)}.ToString();
}

}  // namespace gate::hooks
