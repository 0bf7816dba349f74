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
//     web_idle_timeout: 30m          # a browser session idle this long ends (1m..web_session_ttl)
//     web_session_ttl: 12h           # no browser session lives longer (at most 7 days)
//     web_terminal:                  # browser terminals and live joins (SSH from gate-ca)
//       max_connections: 64          # open at once in the whole gate-ca
//       max_per_user: 8              # open at once per Gate user (<= max_connections)
//     authentication:
//       type: local                  # local|oidc: what `gate login` uses by default
//       connector_name: corp         # with type oidc: which connector (default: the first)
//       connectors:                  # single sign-on (gate/connector_config.h)
//         - name: corp
//           type: oidc
//           issuer_url: https://idp.example.com
//           client_id: gate
//           client_secret_file: /etc/gate/corp.secret
//           redirect_url: https://grav-00:3080/v1/sso/oidc/callback
//           claims_to_roles: [{claim: groups, value: admins, roles: [access]}]
//       second_factor: otp           # otp|on|optional|off (webauthn: not in this version)
//       webauthn:                    # security keys (docs/configuration.md)
//         rp_id: gate.example.com    # default: public_addr's host
//         origins: [https://gate.example.com:3080]   # default: https://public_addr
//       password_min_length: 12
//       lockout_attempts: 5          # consecutive failures before a lockout
//       lockout_duration: 5m
//     rate_limit:
//       per_minute: 30               # signup/login requests per source address
//       burst: 10
//     limits:                        # serving (docs/serving.md); defaults from the core count
//       worker_threads: 4
//       max_connections: 1024
//       max_connections_per_source: 64
//       connection_reserve: 128
//       handshake_timeout: 5s
//       header_timeout: 10s
//       body_timeout: 60s
//       idle_timeout: 30s
//       queue_timeout: 10s
//       login:  {concurrency: 1, queue: 32, nice: 10}
//       node:   {concurrency: 2, queue: 256}
//       upload: {concurrency: 1, queue: 64}
//       api:    {concurrency: 2, queue: 128}
//       admin:  {concurrency: 2, queue: 64}
//
// Unknown keys, wrong types and bad values are errors that name the file and
// line ("gate.yaml:7: unknown key 'secnd_factor' in auth_service.authentication").
#ifndef GATE_CONFIG_H_
#define GATE_CONFIG_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "gate/connector_config.h"
#include "gate/status.h"

namespace gate {

// otp: every user has an OTP app and gives its code at login. on: every
// user has at least one device (OTP app or security key) and uses one.
// optional: a user who has a device uses one; one without logs in with the
// password alone. off: passwords only. webauthn (keys only) is refused at
// start until security keys can be registered at signup.
enum class SecondFactor { kOtp, kOff, kOn, kOptional, kWebauthn };
// "otp", "off", "on", "optional", "webauthn".
std::string_view SecondFactorName(SecondFactor f);
// Whether every user must have and use a device (otp, on, webauthn).
bool SecondFactorRequired(SecondFactor f);

struct HostPort {
  std::string host;  // may be empty in listen addresses? no: "0.0.0.0" explicit
  std::uint16_t port = 0;
  std::string ToString() const;  // "host:port", IPv6 hosts in brackets
};

// "host:port", "[v6]:port"; with default_port, a bare "host" is accepted.
// InvalidArgument on anything else (port 0 or > 65535 included).
Result<HostPort> ParseHostPort(std::string_view text, std::uint16_t default_port = 0);

inline constexpr std::uint16_t kDefaultSshPort = 22;

// A node's SSH address as an operator gives it, "HOST[:PORT]" (port 22 if
// omitted; IPv6 in brackets), in its one stored form "HOST:PORT".
// InvalidArgument naming the text otherwise.
Result<std::string> CanonicalSshAddress(std::string_view text);

// WebAuthn relying party (security keys). Checked at start: rp_id a host
// name (not an IP address); each origin https://HOST[:PORT] (or
// http://localhost) with HOST rp_id or a name under it.
struct WebauthnConfig {
  std::string rp_id;                 // default: public_addr's host
  std::vector<std::string> origins;  // default: https://public_addr (":443" left out)
};

struct AuthenticationConfig {
  std::string type = "local";  // "local" or a connector type ("oidc")
  // With a connector type: the connector logins use unless told otherwise
  // (a name in connectors, of that type).
  std::string connector_name;
  std::vector<ConnectorConfig> connectors;  // names unique
  SecondFactor second_factor = SecondFactor::kOtp;
  WebauthnConfig webauthn;
  int password_min_length = 12;
  int lockout_attempts = 5;
  std::chrono::seconds lockout_duration{5 * 60};
};

struct RateLimitConfig {
  int per_minute = 30;
  int burst = 10;
};

// One traffic class's share of gate-ca's worker pool.
struct ClassLimits {
  int concurrency = 1;  // requests of the class handled at once
  int queue = 0;        // requests that may wait beyond those; more get 503
  // login only (`login.nice`, 0..19): its workers run at this nice value so
  // argon2 yields the CPU to node and admin requests; 0: same as the rest.
  int nice = 0;
};

// How gate-ca serves HTTPS (docs/serving.md): the worker pool, its per-class
// queues, connection caps and the deadlines a client must meet.
struct ServingLimits {
  int worker_threads = 4;
  int max_connections = 1024;  // TCP connections open at once
  // Connections one source address may hold at once.
  int max_connections_per_source = 64;
  // The last connection_reserve of max_connections go only to addresses
  // that hold no connection yet, so a source near its cap cannot take them.
  int connection_reserve = 128;
  std::chrono::seconds handshake_timeout{5};  // TLS handshake
  std::chrono::seconds header_timeout{10};    // from a request's first byte to its last header
  std::chrono::seconds body_timeout{60};      // the whole body
  std::chrono::seconds idle_timeout{30};      // waiting for the next request on a connection
  // A request that waited longer than this for a worker gets 503 unserved
  // (its client has likely given up; serving it would only delay others).
  std::chrono::seconds queue_timeout{10};
  ClassLimits login{1, 32, 10};  // POST /v1/login, signup: argon2id
  ClassLimits node{2, 256};      // nodes: policy sync, host certificates, central OTP, join
  ClassLimits upload{1, 64};     // recording chunks from nodes
  ClassLimits api{2, 128};       // everything else on HTTPS (ping, users' session API, /web)
  ClassLimits admin{2, 64};      // the admin socket (gatectl)
};

// The defaults for a machine with `cores` cores (0 counts as 1):
// worker_threads max(4, 2*cores); login concurrency max(1, cores/2), so at
// least half the cores stay free of argon2, queue 32 per login worker; node
// and api concurrency max(2, cores); upload max(1, cores/2); admin 2.
ServingLimits DefaultServingLimits(unsigned cores);

// Browser terminals and live joins (docs/web.md): each is an SSH
// connection from gate-ca to a node and a thread of gate-ca's.
struct WebTerminalConfig {
  int max_connections = 64;  // open at once, whole gate-ca
  int max_per_user = 8;      // open at once per Gate user
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
  std::chrono::seconds web_idle_timeout{30 * 60};
  std::chrono::seconds web_session_ttl{12 * 3600};
  WebTerminalConfig web_terminal;
  AuthenticationConfig authentication;
  RateLimitConfig rate_limit;
  ServingLimits limits = DefaultServingLimits(0);  // DefaultConfig/ParseConfig use the core count
};

inline constexpr std::string_view kDefaultConfigPath = "/etc/gate/gate.yaml";

// Defaults with host-derived fields filled in.
Config DefaultConfig();

// Parses YAML text; `name` is used in error messages ("gate.yaml:3: ...").
// Checks cross-field rules too (cert_ttl <= max_cert_ttl; 1m <=
// web_idle_timeout <= web_session_ttl <= 7 days; web_terminal.max_per_user
// <= web_terminal.max_connections; both TLS files or
// neither; password_min_length >= 8; connectors: names unique, every
// required field set, https URLs, type and connector_name naming a connector
// of that type; limits: every class's concurrency at
// most worker_threads and login's below it when there are two or more, so
// logins never hold every worker; per-source cap and reserve below
// max_connections).
Result<Config> ParseConfig(std::string_view yaml_text, std::string_view name);

// Reads and parses path. A missing file is not an error only when
// missing_ok (the built-in default path); then DefaultConfig() is returned.
Result<Config> LoadConfig(const std::string& path, bool missing_ok);

}  // namespace gate

#endif  // GATE_CONFIG_H_
