// gate-ca: the certificate authority and auth server. This file only wires
// the layers together; each has its own folder.
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

#include "ca-server/api/admin_api.h"
#include "ca-server/api/browser_auth.h"
#include "ca-server/api/http_server.h"
#include "ca-server/api/node_api.h"
#include "ca-server/api/public_api.h"
#include "ca-server/api/router.h"
#include "ca-server/api/security_headers.h"
#include "ca-server/api/services.h"
#include "ca-server/api/session_api.h"
#include "ca-server/api/sso_api.h"
#include "ca-server/api/web_api.h"
#include "ca-server/api/web_ui.h"
#include "ca-server/audit/audit.h"
#include "ca-server/auth/authenticator.h"
#include "ca-server/auth/rate_limiter.h"
#include "ca-server/auth/request_auth.h"
#include "ca-server/auth/signup.h"
#include "ca-server/auth/web_sessions.h"
#include "ca-server/connectors/oidc_connector.h"
#include "ca-server/connectors/sso_flows.h"
#include "ca-server/connectors/sso_login.h"
#include "ca-server/issuer/host_issuer.h"
#include "ca-server/issuer/issuer.h"
#include "ca-server/sessions/recording_files.h"
#include "ca-server/sessions/session_ingest.h"
#include "ca-server/signer/ca_keys.h"
#include "ca-server/signer/privsep.h"
#include "ca-server/signer/signer_client.h"
#include "ca-server/signer/signer_server.h"
#include "ca-server/signer/signer_service.h"
#include "ca-server/signer/syscall_filter.h"
#include "ca-server/signer/tls_cert.h"
#include "ca-server/store/store.h"
#include "ca-server/web/web_terminals.h"
#include "gate/config.h"
#include "gate/curl_http.h"
#include "gate/log.h"
#include "gate/secure_file.h"
#include "gate/unique_fd.h"

namespace gate::ca {
namespace {

// Writes all of text to stdout, resuming after a signal. The SIGTERM/SIGINT
// handler (Boost.Asio's signal_set) is installed without SA_RESTART, so a
// supervisor's SIGTERM that lands on this thread while the banner waits on
// a full pipe would otherwise fail the write, and std::cout would drop the
// banner and every later line.
void WriteToStdout(std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(STDOUT_FILENO, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // stdout is gone; nothing to tell it
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

// How long the front end waits for one answer from the signer: far above a
// signature and its SQLite writes, short enough that a hung signer fails
// logins visibly instead of piling them up.
constexpr std::chrono::seconds kSignerTimeout{10};

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

Status CanRead(Store& store) {
  auto read = store.ListRevocations(0);
  return read ? Status::Ok() : read.error();
}

// How a child ended, for the log: "exit status 1", "signal 9".
std::string DescribeExit(int wait_status) {
  if (WIFEXITED(wait_status)) return "exit status " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) return "signal " + std::to_string(WTERMSIG(wait_status));
  return "wait status " + std::to_string(wait_status);
}

// The front end: everything that faces the network, as `gate` when started
// as root. It never opens ca/ and asks the signer for every certificate.
int ServeFrontEnd(Config config, UniqueFd signer_fd, pid_t signer_pid,
                  const std::optional<SystemUser>& front_user) {
  // Client secrets may be root's (0600): read them before dropping root.
  std::vector<uid_t> secret_owners = {0, ::geteuid()};
  if (front_user) secret_owners.push_back(front_user->uid);
  auto connectors = Connectors::Load(
      config.authentication, CurlHttpTransport(),
      [] { return static_cast<std::int64_t>(std::time(nullptr)); }, secret_owners);
  if (!connectors) {
    std::cerr << "gate-ca: " << connectors.error().message() << "\n";
    return 1;
  }
  if (front_user) {
    if (Status s = DropToUser(*front_user); !s.ok()) {
      std::cerr << "gate-ca: front end: " << s.message() << "\n";
      return 1;
    }
  }
  if (Status s = HardenProcess(); !s.ok()) {
    std::cerr << "gate-ca: front end: " << s.message() << "\n";
    return 1;
  }
  // A failure closes the connection, so the signer leaves and the watcher
  // below stops the server.
  auto signer = SignerClient::Connect(std::move(signer_fd), kSignerTimeout);
  if (!signer) return 1;  // the signer said why on stderr
  CertificateAuthority& ca = **signer;

  if (Status s = EnsurePrivateDir(config.data_dir, 0700); !s.ok()) {
    std::cerr << "gate-ca: data dir: " << s.message()
              << (front_user ? " (the front end runs as " + front_user->name +
                                   ", which must be able to reach it)"
                             : std::string())
              << "\n";
    return 1;
  }
  auto store = OpenSqliteStore(config.data_dir + "/gate.db");
  if (!store) {
    std::cerr << "gate-ca: database: " << store.error().message() << "\n";
    return 1;
  }
  std::string cert_file, key_file;
  bool self_signed = false;
  if (Status s = EnsureTls(config, &cert_file, &key_file, &self_signed); !s.ok()) {
    std::cerr << "gate-ca: refusing to start: TLS: " << s.message() << "\n";
    return 1;
  }
  auto pin = SpkiPinFromCertFile(cert_file);
  if (!pin) {
    std::cerr << "gate-ca: TLS certificate: " << pin.error().message() << "\n";
    return 1;
  }

  const auto now = [] { return static_cast<std::int64_t>(std::time(nullptr)); };
  (void)(*store)->DeleteExpiredNodeTokens(now());

  AuditLog audit(**store);
  Authenticator authenticator(
      {config.authentication.second_factor, config.authentication.lockout_attempts,
       config.authentication.lockout_duration},
      **store, audit);
  SignupService signup({config.cluster_name, config.authentication.second_factor,
                        config.authentication.password_min_length},
                       **store, audit);
  (void)signup.PruneTokens(now());
  WebSessions web_sessions({.idle_timeout = config.web_idle_timeout, .ttl = config.web_session_ttl},
                           **store, audit, now);
  (void)web_sessions.Prune();
  Issuer issuer({config.cert_ttl, config.max_cert_ttl, std::chrono::seconds(60)}, ca, **store);
  HostIssuer host_issuer(ca);
  RateLimiter limiter(config.rate_limit.per_minute, config.rate_limit.burst);
  Services services{.config = config,
                    .store = **store,
                    .audit = audit,
                    .authenticator = authenticator,
                    .signup = signup,
                    .issuer = issuer,
                    .host_issuer = host_issuer,
                    .auth_limiter = limiter,
                    .user_ca = ca.user_ca(),
                    .host_ca = ca.host_ca(),
                    .now = now,
                    .ca_pin = *pin,
                    .tls_self_signed = self_signed};

  auto recordings = RecordingFiles::Open(config.data_dir + "/recordings");
  if (!recordings) {
    std::cerr << "gate-ca: recordings: " << recordings.error().message() << "\n";
    return 1;
  }
  SessionIngest ingest(**store, audit, *recordings, SessionLimits{}, now);
  services.node_leaving = [&ingest](const NodeRecord& node, const std::string& source) {
    return ingest.CloseLiveSessions(node, source);
  };
  // Its own buckets: listing sessions must not use up a user's logins.
  RateLimiter signed_limiter(config.rate_limit.per_minute, config.rate_limit.burst);
  RequestAuthenticator signed_users(**store, audit, ca.user_ca(), signed_limiter,
                                    RequestAuthOptions{}, now);
  // Reads config.public_addr per request: it is final once the port is
  // bound (DerivePublicAddr below), before anything is served.
  BrowserAuth browser(web_sessions, config.public_addr);
  SessionApiDeps session_deps{.services = services,
                              .ingest = ingest,
                              .users = signed_users,
                              .files = *recordings,
                              .browser = &browser};
  WebApiDeps web_deps{.services = services, .browser = browser};
  SsoFlows sso_flows;
  SsoLogin sso_login(**connectors, sso_flows, **store, audit, now);
  SsoCliResults sso_cli_results;
  SsoApiDeps sso_deps{.web = web_deps, .login = sso_login, .cli_results = sso_cli_results};

  Router public_router(RouterOptions{.default_class = TrafficClass::kApi});
  RegisterPublicApi(public_router, services);
  RegisterNodeApi(public_router, services);
  RegisterSessionApi(public_router, session_deps);
  RegisterUserNodesApi(public_router, session_deps);
  RegisterWebApi(public_router, web_deps);
  RegisterSsoApi(public_router, sso_deps);
  RegisterWebUi(public_router, /*hsts=*/!services.tls_self_signed);
  web::RegisterWebTerminalRoutes(public_router);
  web::WebTerminals web_terminals(services, browser);
  Router admin_router(
      RouterOptions{.default_class = TrafficClass::kAdmin, .detailed_server_errors = true});
  RegisterAdminApi(admin_router, services);
  RegisterAdminSessionsApi(admin_router, session_deps);

  HttpServerOptions options;
  options.listen_host = config.listen_addr.host;
  options.listen_port = config.listen_addr.port;
  options.tls_cert_file = cert_file;
  options.tls_key_file = key_file;
  options.admin_socket_path = config.data_dir + "/admin.sock";
  options.admin_uids = {0, geteuid()};
  options.large_body_bytes = kMaxChunkBytes;
  options.large_body = [&store](std::string_view method, std::string_view path,
                                std::string_view authorization) {
    return IsChunkUpload(**store, method, path, authorization);
  };
  options.classify = [&](bool admin, std::string_view method, std::string_view path) {
    return (admin ? admin_router : public_router).Classify(method, path);
  };
  options.limits = config.limits;
  options.upgrade = [&](const HttpRequest& r) {
    std::optional<UpgradeResult> result = web_terminals.Upgrade(r);
    if (result && !result->handler) {
      AddSecurityHeaders(result->refusal, /*is_html=*/false, /*hsts=*/!self_signed);
    }
    return result;
  };
  HttpServer server(
      options,
      [&](const HttpRequest& r) {
        HttpReply reply = public_router.Dispatch(r);
        AddSecurityHeaders(reply, /*is_html=*/false, /*hsts=*/!self_signed);
        return reply;
      },
      [&](const HttpRequest& r) { return admin_router.Dispatch(r); });
  if (Status s = server.Start(); !s.ok()) {
    std::cerr << "gate-ca: cannot listen: " << s.message() << "\n";
    return 1;
  }
  DerivePublicAddr(config, server.port());

  const std::string listen = HostPort{config.listen_addr.host, server.port()}.ToString();
  std::ostringstream banner;
  banner << "[AUTH]  Auth service is starting on " << listen << " (cluster " << config.cluster_name
         << ", second factor " << SecondFactorName(config.authentication.second_factor) << ")\n"
         << "[AUTH]  User CA " << ca.user_ca().Fingerprint() << ", host CA "
         << ca.host_ca().Fingerprint() << " (signer process " << signer_pid << ")\n"
         << "[PROXY] Web proxy service is starting on " << listen << ": https://"
         << config.public_addr.ToString() << "/web, API under /v1/\n"
         << "[PROXY] TLS certificate " << cert_file << (self_signed ? " (self-signed)" : "")
         << ", pin " << *pin << "\n"
         << "[ADMIN] Admin socket " << options.admin_socket_path << " (root only)\n"
         << "[AUTH]  Data in " << config.data_dir << "\n";
  WriteToStdout(banner.str());

  // No front end serves without its signer: when it exits, for whatever
  // reason, the server stops (Stop before Run makes Run return at once).
  std::atomic<bool> stopping{false};
  std::atomic<bool> signer_lost{false};
  std::thread watcher([&] {
    int status = 0;
    while (::waitpid(signer_pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!stopping) {
      signer_lost = true;
      log::Error("the signer process stopped (" + DescribeExit(status) + "); stopping gate-ca");
    }
    server.Stop();
  });
  server.Run();
  stopping = true;
  // Before the server goes: open terminals hold its connections.
  web_terminals.Shutdown();
  audit.FlushRefusals(now());
  signer->reset();  // the signer sees the end of its connection and exits
  watcher.join();
  if (signer_lost) {
    std::cerr << "gate-ca: the signer process stopped; no certificate can be issued without it\n";
    return 1;
  }
  WriteToStdout("[AUTH]  gate-ca stopped\n");
  return 0;
}

// The signer: loads the CA keys (as root when started as root), opens its own
// store connection, gives up everything else and serves the front end until
// the front end closes the socket. Stop signals are the front end's to act
// on; if the front end dies, the kernel kills the signer.
int RunSigner(const Config& config, UniqueFd fd, pid_t front_end,
              const std::optional<SystemUser>& front_user,
              const std::optional<SystemUser>& signer_user) {
  ::prctl(PR_SET_NAME, "gate-ca-signer", 0, 0, 0);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) ::signal(sig, SIG_IGN);
  if (Status s = HardenProcess(); !s.ok()) {
    std::cerr << "gate-ca: signer: " << s.message() << "\n";
    return 1;
  }
  if (Status s = ProtectKeyMemory(); !s.ok()) {
    std::cerr << "gate-ca: refusing to start: " << s.message() << "\n";
    return 1;
  }
  auto keys = LoadOrCreateCaKeys(config.data_dir + "/ca");
  if (!keys) {
    std::cerr << "gate-ca: refusing to start: " << keys.error().message() << "\n";
    return 1;
  }
  // The signer's own connection, opened (with the front end's ids, whose
  // database it is) before it gives up the right to open anything; SQLite
  // keeps the database, -wal and -shm descriptors for the connection's life.
  std::unique_ptr<Store> store;
  auto open_store = [&]() -> Status {
    auto opened = OpenSqliteStore(config.data_dir + "/gate.db");
    if (!opened) return opened.error();
    store = std::move(*opened);
    return CanRead(*store);
  };
  Status ready = front_user ? RunWithEffectiveIds(*front_user, open_store) : open_store();
  if (ready.ok() && signer_user) ready = DropToUser(*signer_user);
  if (ready.ok()) ready = HardenProcess();  // a uid change resets "dumpable"
  if (ready.ok() &&
      (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || ::getppid() != front_end)) {
    ready = Unavailable("the front end is gone");
  }
  if (ready.ok()) ready = ConfineSigner();
  // Last: from here on only the system calls serving needs are possible.
  if (ready.ok()) ready = InstallSignerSyscallFilter(fd.get());
  // After the drop and under the filter: the connection must still read
  // (and the first signature will write) without opening anything.
  if (ready.ok()) ready = CanRead(*store);
  int rc = 1;
  if (!ready.ok()) {
    std::cerr << "gate-ca: signer: " << ready.message() << "\n";
  } else {
    SignerService service({config.max_cert_ttl}, std::move(*keys), *store,
                          [] { return static_cast<std::int64_t>(std::time(nullptr)); });
    if (Status s = ServeSignerConnection(fd.get(), service); !s.ok()) {
      log::Error("signer: " + s.message() + "; stopping gate-ca");
    } else {
      rc = 0;
    }
  }
  // Not closed: closing the process's last connection may checkpoint and
  // delete the -wal and -shm files, the front end's business and beyond
  // the filter. The kernel drops the locks at exit; every commit is in the
  // WAL already.
  (void)store.release();
  return rc;
}

// The front end (the parent: the process systemd and the shell see). A
// start-up that fails before serving leaves the signer to exit on its own
// (its socket closes) and reaps it.
int RunFrontEnd(Config config, UniqueFd signer_fd, pid_t signer_pid,
                const std::optional<SystemUser>& front_user) {
  const int rc = ServeFrontEnd(std::move(config), std::move(signer_fd), signer_pid, front_user);
  int status = 0;
  while (::waitpid(signer_pid, &status, 0) < 0 && errno == EINTR) {
  }
  return rc;
}

int Start(const StartFlags& flags) {
  // Nothing inherited beyond stdio: the signer caps its descriptors at those
  // it holds, and neither process should carry another program's.
  ::close_range(3, ~0U, 0);
  auto config = ResolveConfig(flags);
  if (!config) {
    std::cerr << "gate-ca: " << config.error().message() << "\n";
    return 2;
  }
  // Started as root, the front end runs as `gate` and the signer as
  // `gate-signer`; never as root, so both users must exist.
  std::optional<SystemUser> front_user, signer_user;
  if (::geteuid() == 0) {
    auto gate_user = LookUpSystemUser(kFrontEndUser);
    if (!gate_user) {
      std::cerr << "gate-ca: refusing to start as root: " << gate_user.error().message() << "\n";
      return 1;
    }
    auto signer = LookUpSystemUser(kSignerUser);
    if (!signer) {
      std::cerr << "gate-ca: refusing to start as root: " << signer.error().message() << "\n";
      return 1;
    }
    front_user = *gate_user;
    signer_user = *signer;
    if (Status s = PrepareDataDir(config->data_dir, *front_user); !s.ok()) {
      std::cerr << "gate-ca: refusing to start: data dir: " << s.message() << "\n";
      return 1;
    }
  } else if (Status s = EnsurePrivateDir(config->data_dir, 0700); !s.ok()) {
    std::cerr << "gate-ca: data dir: " << s.message() << "\n";
    return 1;
  }
  // Create or migrate the schema once, here, so the two processes' own
  // connections never race to do it; no connection crosses the fork.
  auto create_store = [&]() -> Status {
    auto store = OpenSqliteStore(config->data_dir + "/gate.db");
    return store ? Status::Ok() : store.error();
  };
  if (Status s = front_user ? RunWithEffectiveIds(*front_user, create_store) : create_store();
      !s.ok()) {
    std::cerr << "gate-ca: database: " << s.message() << "\n";
    return 1;
  }

  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    std::cerr << "gate-ca: socketpair: " << std::strerror(errno) << "\n";
    return 1;
  }
  UniqueFd signer_end(pair[0]), front_end_end(pair[1]);
  std::cout << std::flush;
  const pid_t front_end_pid = ::getpid();
  const pid_t signer_pid = ::fork();
  if (signer_pid < 0) {
    std::cerr << "gate-ca: fork: " << std::strerror(errno) << "\n";
    return 1;
  }
  if (signer_pid == 0) {
    front_end_end.Reset();
    // The signer's exit status is only the front end's to read.
    ::_exit(RunSigner(*config, std::move(signer_end), front_end_pid, front_user, signer_user));
  }
  signer_end.Reset();
  return RunFrontEnd(*std::move(config), std::move(front_end_end), signer_pid, front_user);
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
      "the SQLite database. It runs as two processes: the network front end, and a signer\n"
      "that alone holds the CA keys (data_dir/ca). Started as root, the front end runs as\n"
      "the system user gate and the signer as gate-signer, with no capabilities; both users\n"
      "must exist. The signer runs under a system call allow-list: a call outside it stops\n"
      "gate-ca with \"gate-ca: signer: forbidden system call NAME\" on stderr.\n"
      "It exits cleanly on SIGTERM or SIGINT.\n\n"
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
