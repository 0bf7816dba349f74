// gate-ca: the certificate authority and auth server. This file only wires
// the layers together; each has its own folder.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <string>

#include "ca-server/api/admin_api.h"
#include "ca-server/api/http_server.h"
#include "ca-server/api/node_api.h"
#include "ca-server/api/public_api.h"
#include "ca-server/api/router.h"
#include "ca-server/api/services.h"
#include "ca-server/api/session_api.h"
#include "ca-server/audit/audit.h"
#include "ca-server/auth/authenticator.h"
#include "ca-server/auth/rate_limiter.h"
#include "ca-server/auth/request_auth.h"
#include "ca-server/auth/signup.h"
#include "ca-server/issuer/host_issuer.h"
#include "ca-server/issuer/issuer.h"
#include "ca-server/sessions/recording_files.h"
#include "ca-server/sessions/session_ingest.h"
#include "ca-server/signer/ca_keys.h"
#include "ca-server/signer/tls_cert.h"
#include "ca-server/store/store.h"
#include "gate/config.h"
#include "gate/log.h"
#include "gate/secure_file.h"

namespace gate::ca {
namespace {

struct StartFlags {
  std::string config_path;
  std::string data_dir;
  std::string listen;
};

bool IsIpLiteral(const std::string& host) {
  return !host.empty() && (host.find(':') != std::string::npos ||
                           host.find_first_not_of("0123456789.") == std::string::npos);
}

bool IsWildcard(const std::string& host) { return host == "0.0.0.0" || host == "::"; }

Result<Config> ResolveConfig(const StartFlags& flags) {
  const bool explicit_config = !flags.config_path.empty();
  auto config = LoadConfig(explicit_config ? flags.config_path : std::string(kDefaultConfigPath),
                           /*missing_ok=*/!explicit_config);
  if (!config) return Err(config.error());
  if (!flags.data_dir.empty()) config->data_dir = flags.data_dir;
  if (!flags.listen.empty()) {
    auto listen = ParseHostPort(flags.listen);
    if (!listen) return Err(listen.error().WithContext("--listen"));
    config->listen_addr = *listen;
  }
  return config;
}

// Without a public_addr in the file, URLs name the address we listen on (or
// this host's name when listening on every address).
void DerivePublicAddr(Config& config, std::uint16_t bound_port) {
  if (config.public_addr_set) return;
  char host[256] = {};
  const bool wildcard = IsWildcard(config.listen_addr.host);
  std::string name = config.listen_addr.host;
  if (wildcard && gethostname(host, sizeof(host) - 1) == 0) name = host;
  config.public_addr = HostPort{name, bound_port};
}

Status EnsureTls(const Config& config, std::string* cert_file, std::string* key_file,
                 bool* self_signed) {
  if (!config.https_cert_file.empty()) {
    *cert_file = config.https_cert_file;
    *key_file = config.https_key_file;
    *self_signed = false;
    // The configured key is a secret like any other: check it before use.
    auto fd = OpenSecureFile(*key_file, FilePolicy{});
    return fd ? Status::Ok() : fd.error();
  }
  const std::string dir = config.data_dir + "/tls";
  GATE_RETURN_IF_ERROR(EnsurePrivateDir(dir, 0700));
  *cert_file = dir + "/server.crt";
  *key_file = dir + "/server.key";
  *self_signed = true;
  std::vector<std::string> dns = {"localhost"};
  std::vector<std::string> ips = {"127.0.0.1", "::1"};
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) == 0 && host[0] != '\0') dns.insert(dns.begin(), host);
  for (const std::string& h : {config.public_addr.host, config.listen_addr.host}) {
    if (h.empty() || IsWildcard(h)) continue;
    (IsIpLiteral(h) ? ips : dns).push_back(h);
  }
  return EnsureSelfSignedCert(*cert_file, *key_file, dns, ips);
}

int Start(const StartFlags& flags) {
  auto config = ResolveConfig(flags);
  if (!config) {
    std::cerr << "gate-ca: " << config.error().message() << "\n";
    return 2;
  }
  if (Status s = EnsurePrivateDir(config->data_dir, 0700); !s.ok()) {
    std::cerr << "gate-ca: data dir: " << s.message() << "\n";
    return 1;
  }

  auto store = OpenSqliteStore(config->data_dir + "/gate.db");
  if (!store) {
    std::cerr << "gate-ca: database: " << store.error().message() << "\n";
    return 1;
  }
  auto keys = LoadOrCreateCaKeys(config->data_dir + "/ca");
  if (!keys) {
    std::cerr << "gate-ca: refusing to start: " << keys.error().message() << "\n";
    return 1;
  }
  std::string cert_file, key_file;
  bool self_signed = false;
  if (Status s = EnsureTls(*config, &cert_file, &key_file, &self_signed); !s.ok()) {
    std::cerr << "gate-ca: refusing to start: TLS: " << s.message() << "\n";
    return 1;
  }
  auto pin = SpkiPinFromCertFile(cert_file);
  if (!pin) {
    std::cerr << "gate-ca: TLS certificate: " << pin.error().message() << "\n";
    return 1;
  }

  const auto now = [] { return static_cast<std::int64_t>(std::time(nullptr)); };
  (void)(*store)->DeleteExpiredSignupTokens(now());
  (void)(*store)->DeleteExpiredNodeTokens(now());

  AuditLog audit(**store);
  Authenticator authenticator(
      {config->authentication.second_factor, config->authentication.lockout_attempts,
       config->authentication.lockout_duration},
      **store, audit);
  SignupService signup({config->cluster_name, config->authentication.second_factor,
                        config->authentication.password_min_length},
                       **store, audit);
  Issuer issuer({config->cert_ttl, config->max_cert_ttl, std::chrono::seconds(60)}, *keys->user,
                **store);
  HostIssuer host_issuer(HostIssuerOptions{}, *keys->host);
  RateLimiter limiter(config->rate_limit.per_minute, config->rate_limit.burst);
  Services services{.config = *config,
                    .store = **store,
                    .audit = audit,
                    .authenticator = authenticator,
                    .signup = signup,
                    .issuer = issuer,
                    .host_issuer = host_issuer,
                    .auth_limiter = limiter,
                    .user_ca = keys->user->public_key(),
                    .host_ca = keys->host->public_key(),
                    .now = now,
                    .ca_pin = *pin};

  auto recordings = RecordingFiles::Open(config->data_dir + "/recordings");
  if (!recordings) {
    std::cerr << "gate-ca: recordings: " << recordings.error().message() << "\n";
    return 1;
  }
  SessionIngest ingest(**store, audit, *recordings, SessionLimits{}, now);
  services.node_leaving = [&ingest](const NodeRecord& node, const std::string& source) {
    return ingest.CloseLiveSessions(node, source);
  };
  // Its own buckets: listing sessions must not use up a user's logins.
  RateLimiter signed_limiter(config->rate_limit.per_minute, config->rate_limit.burst);
  RequestAuthenticator signed_users(**store, audit, keys->user->public_key(), signed_limiter,
                                    RequestAuthOptions{}, now);
  SessionApiDeps session_deps{
      .services = services, .ingest = ingest, .users = signed_users, .files = *recordings};

  Router public_router(RouterOptions{.default_class = TrafficClass::kApi});
  RegisterPublicApi(public_router, services);
  RegisterNodeApi(public_router, services);
  RegisterSessionApi(public_router, session_deps);
  Router admin_router(
      RouterOptions{.default_class = TrafficClass::kAdmin, .detailed_server_errors = true});
  RegisterAdminApi(admin_router, services);
  RegisterAdminSessionsApi(admin_router, session_deps);

  HttpServerOptions options;
  options.listen_host = config->listen_addr.host;
  options.listen_port = config->listen_addr.port;
  options.tls_cert_file = cert_file;
  options.tls_key_file = key_file;
  options.admin_socket_path = config->data_dir + "/admin.sock";
  options.admin_uids = {0, geteuid()};
  options.large_body_bytes = kMaxChunkBytes;
  options.large_body = [&store](std::string_view method, std::string_view path,
                                std::string_view authorization) {
    return IsChunkUpload(**store, method, path, authorization);
  };
  options.classify = [&](bool admin, std::string_view method, std::string_view path) {
    return (admin ? admin_router : public_router).Classify(method, path);
  };
  options.limits = config->limits;
  HttpServer server(
      options, [&](const HttpRequest& r) { return public_router.Dispatch(r); },
      [&](const HttpRequest& r) { return admin_router.Dispatch(r); });
  if (Status s = server.Start(); !s.ok()) {
    std::cerr << "gate-ca: cannot listen: " << s.message() << "\n";
    return 1;
  }
  DerivePublicAddr(*config, server.port());

  const std::string listen = HostPort{config->listen_addr.host, server.port()}.ToString();
  std::cout << "[AUTH]  Auth service is starting on " << listen << " (cluster "
            << config->cluster_name << ", second factor "
            << SecondFactorName(config->authentication.second_factor) << ")\n"
            << "[AUTH]  User CA " << keys->user->public_key().Fingerprint() << ", host CA "
            << keys->host->public_key().Fingerprint() << "\n"
            << "[PROXY] Web proxy service is starting on " << listen << ": https://"
            << config->public_addr.ToString() << "/web, API under /v1/\n"
            << "[PROXY] TLS certificate " << cert_file << (self_signed ? " (self-signed)" : "")
            << ", pin " << *pin << "\n"
            << "[ADMIN] Admin socket " << options.admin_socket_path << " (root only)\n"
            << "[AUTH]  Data in " << config->data_dir << "\n"
            << std::flush;

  server.Run();
  audit.FlushRefusals(now());
  std::cout << "[AUTH]  gate-ca stopped\n" << std::flush;
  return 0;
}

}  // namespace
}  // namespace gate::ca

int main(int argc, char** argv) {
  gate::log::Init(gate::log::Sink::kStderr, "gate-ca");
  CLI::App app{
      "gate-ca: the gate certificate authority and auth server.\n\n"
      "Signs short-lived OpenSSH user certificates after a password and a second\n"
      "factor. Serves the JSON API (/v1/) and web pages (/web/) over HTTPS, and the\n"
      "admin API for gatectl on a root-only Unix socket in the data dir.",
      "gate-ca"};
  app.require_subcommand(1);
  gate::ca::StartFlags flags;
  CLI::App* start = app.add_subcommand("start", "Start the server in the foreground");
  start->add_option("-c,--config", flags.config_path,
                    "Configuration file (default /etc/gate/gate.yaml; built-in defaults if "
                    "that file does not exist)");
  start->add_option("-d,--data-dir", flags.data_dir,
                    "Data directory: keys, database, admin socket (default /var/lib/gate)");
  start->add_option("-l,--listen", flags.listen,
                    "HTTPS address ADDR:PORT to listen on (default 0.0.0.0:3080)");
  start->footer(
      "On first start gate-ca creates the data dir (0700), an Ed25519 user CA and host CA,\n"
      "a self-signed TLS certificate (unless https_cert_file/https_key_file are set) and\n"
      "the SQLite database. It exits cleanly on SIGTERM or SIGINT.\n\n"
      "Exit status: 0 after a clean stop, 1 on a start-up failure, 2 on bad configuration.");
  int rc = 0;
  start->callback([&] { rc = gate::ca::Start(flags); });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "gate-ca: " << e.what() << "\n";
    return 1;
  }
  return rc;
}
