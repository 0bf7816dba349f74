// gate.yaml: the server's configuration file (yaml-cpp). Keys mirror the
// reference's teleport.yaml. Every key is optional; defaults below.
//
//   cluster_name: grav-00            # default: this host's name
//   data_dir: /var/lib/gate
//   auth_service:
//     listen_addr: 0.0.0.0:3080
//     public_addr: grav-00:3080      # host:port users reach; default <hostname>:<listen port>
//     https_cert_file: /etc/gate/tls.crt   # both or neither; default: self-signed in data_dir
//     https_key_file: /etc/gate/tls.key
//     cert_ttl: 12h                  # default certificate lifetime
//     max_cert_ttl: 30h              # no certificate lives longer
//     signup_token_ttl: 1h
//     authentication:
//       type: local                  # local (github|oidc|saml: not in this version)
//       second_factor: otp           # otp|off
//       password_min_length: 12
//       lockout_attempts: 5          # consecutive failures before a lockout
//       lockout_duration: 5m
//     rate_limit:
//       per_minute: 30               # signup/login requests per source address
//       burst: 10
//
// Unknown keys, wrong types and bad values are errors that name the file and
// line ("gate.yaml:7: unknown key 'secnd_factor' in auth_service.authentication").
#ifndef GATE_CONFIG_H_
#define GATE_CONFIG_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "gate/status.h"

namespace gate {

enum class SecondFactor { kOtp, kOff };
std::string_view SecondFactorName(SecondFactor f);  // "otp" / "off"

struct HostPort {
  std::string host;  // may be empty in listen addresses? no: "0.0.0.0" explicit
  std::uint16_t port = 0;
  std::string ToString() const;  // "host:port", IPv6 hosts in brackets
};

// "host:port", "[v6]:port"; with default_port, a bare "host" is accepted.
// InvalidArgument on anything else (port 0 or > 65535 included).
Result<HostPort> ParseHostPort(std::string_view text, std::uint16_t default_port = 0);

struct AuthenticationConfig {
  std::string type = "local";
  SecondFactor second_factor = SecondFactor::kOtp;
  int password_min_length = 12;
  int lockout_attempts = 5;
  std::chrono::seconds lockout_duration{5 * 60};
};

struct RateLimitConfig {
  int per_minute = 30;
  int burst = 10;
};

struct Config {
  std::string cluster_name;  // filled with the host name if absent
  std::string data_dir = "/var/lib/gate";
  HostPort listen_addr{"0.0.0.0", 3080};
  HostPort public_addr;          // filled from host name + listen port if absent
  bool public_addr_set = false;  // true if the file named public_addr
  std::string https_cert_file;
  std::string https_key_file;
  std::chrono::seconds cert_ttl{12 * 3600};
  std::chrono::seconds max_cert_ttl{30 * 3600};
  std::chrono::seconds signup_token_ttl{3600};
  AuthenticationConfig authentication;
  RateLimitConfig rate_limit;
};

inline constexpr std::string_view kDefaultConfigPath = "/etc/gate/gate.yaml";

// Defaults with host-derived fields filled in.
Config DefaultConfig();

// Parses YAML text; `name` is used in error messages ("gate.yaml:3: ...").
// Checks cross-field rules too (cert_ttl <= max_cert_ttl; both TLS files or
// neither; password_min_length >= 8).
Result<Config> ParseConfig(std::string_view yaml_text, std::string_view name);

// Reads and parses path. A missing file is not an error only when
// missing_ok (the built-in default path); then DefaultConfig() is returned.
Result<Config> LoadConfig(const std::string& path, bool missing_ok);

}  // namespace gate

#endif  // GATE_CONFIG_H_
