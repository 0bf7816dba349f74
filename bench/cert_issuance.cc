// gate-bench-cert: single-threaded certificate issuance rate, beside the raw
// Ed25519 signature rate of the same key for reference:
//   - in-process: encode + sign with a fresh nonce (SignCertificate);
//   - through a signer process: the same certificate asked for over a
//     socketpair with gate-ca's signer protocol (SignerClient ->
//     ServeSignerRequest in a forked child under the signer's system call
//     filter), signing only, so the difference is the process boundary;
//   - the whole signer decision, in process and through the signer process:
//     SignerService over a real SQLite store (user lookup, roles, locks, the
//     serial recorded, the audit event), as gate-ca issues at login;
//   - concurrent issuance through the signer process: N front-end threads
//     sharing one SignerClient (as gate-ca's workers do), signing only and
//     with the store, and the same with the calls made one at a time (a
//     mutex around each call, as the client did before it let several
//     requests be in flight).
//
// Usage: gate-bench-cert [--seconds N] [--threads 1,2,4,8]
//
// Rates are reported per CPU-second (the way `openssl speed` counts, so the
// two compare on a busy machine): of this process (all its threads), plus
// the signer process's own CPU time when one serves the requests
// (clock_getcpuclockid of the child, read while it runs). The last lines are
// machine-readable for bench/cert-issuance.sh.
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ca-server/issuer/certificate_authority.h"
#include "ca-server/signer/signer_client.h"
#include "ca-server/signer/signer_server.h"
#include "ca-server/signer/signer_service.h"
#include "ca-server/signer/syscall_filter.h"
#include "ca-server/store/store.h"
#include "gate/certificate.h"
#include "gate/ed25519.h"
#include "gate/log.h"
#include "gate/unique_fd.h"

namespace {

using gate::ssh::CertificateSpec;
using gate::ssh::Ed25519PrivateKey;
using gate::ssh::LocalSigner;

double CpuSeconds(clockid_t clock = CLOCK_PROCESS_CPUTIME_ID) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// The signer process serving the bench, if any: its CPU time counts too.
clockid_t g_peer_clock{};
bool g_has_peer = false;

double TotalCpuSeconds() { return CpuSeconds() + (g_has_peer ? CpuSeconds(g_peer_clock) : 0); }

double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Rate {
  long count = 0;
  double cpu = 0;
  double wall = 0;
  double PerCpuSecond() const { return static_cast<double>(count) / cpu; }
  double PerWallSecond() const { return static_cast<double>(count) / wall; }
};

// Runs op until `seconds` of wall time have passed; op returns false on error.
template <typename Op>
bool Measure(double seconds, Op op, Rate& rate) {
  const double cpu0 = TotalCpuSeconds();
  const double wall0 = WallSeconds();
  double wall = wall0;
  long n = 0;
  while (wall - wall0 < seconds) {
    // Checking the clock every call would cost more than a few percent.
    for (int i = 0; i < 64; ++i) {
      if (!op()) return false;
    }
    n += 64;
    wall = WallSeconds();
  }
  rate.count = n;
  rate.cpu = TotalCpuSeconds() - cpu0;
  rate.wall = wall - wall0;
  return true;
}

// Runs op on `threads` threads at once for `seconds` of wall time; false if
// any call failed. CPU time is the whole process's (every thread) plus the
// signer's.
template <typename Op>
bool MeasureConcurrent(double seconds, int threads, Op op, Rate& rate) {
  std::atomic<bool> stop{false};
  std::atomic<bool> failed{false};
  std::atomic<long> count{0};
  const double cpu0 = TotalCpuSeconds();
  const double wall0 = WallSeconds();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      long n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        if (!op()) {
          failed = true;
          break;
        }
        ++n;
      }
      count += n;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  rate.count = count;
  rate.cpu = TotalCpuSeconds() - cpu0;
  rate.wall = WallSeconds() - wall0;
  return !failed;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "gate-bench-cert: %s\n", what.c_str());
  return 1;
}

// Signing only, the same certificate as the in-process run: what the
// process boundary costs, with no store work on either side.
class SignOnlyCa final : public gate::ca::CertificateAuthority {
 public:
  SignOnlyCa(const gate::ssh::Signer& ca, CertificateSpec spec) : ca_(ca), spec_(std::move(spec)) {}
  const gate::ssh::Ed25519PublicKey& user_ca() const override { return ca_.public_key(); }
  const gate::ssh::Ed25519PublicKey& host_ca() const override { return ca_.public_key(); }
  gate::Result<gate::ca::IssuedUserCertificate> SignUserCertificate(
      const gate::ca::UserCertificateRequest& req) override {
    spec_.public_key = req.public_key;
    spec_.key_id = req.user;
    ++spec_.serial;
    auto cert = gate::ssh::SignCertificate(spec_, ca_);
    if (!cert) return gate::Err(cert.error());
    return gate::ca::IssuedUserCertificate{std::move(*cert), {}, {}};
  }
  gate::Result<gate::ssh::Certificate> SignHostCertificate(
      const gate::ca::HostCertificateRequest&) override {
    return gate::Err(gate::InvalidArgument("not in this benchmark"));
  }

 private:
  const gate::ssh::Signer& ca_;
  CertificateSpec spec_;
};

// Forks a process whose CPU time counts with this one's (until ReapPeer):
// serve(fd) runs in the child on one end of a SOCK_SEQPACKET socketpair and
// must _exit; the other end is returned. An invalid fd if either call fails.
gate::UniqueFd ForkPeer(const std::function<void(int fd)>& serve, pid_t* child) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return gate::UniqueFd();
  *child = ::fork();
  if (*child == 0) {
    ::close(pair[1]);
    serve(pair[0]);
    ::_exit(1);  // serve returned instead of exiting
  }
  ::close(pair[0]);
  gate::UniqueFd mine(pair[1]);
  if (*child < 0) return gate::UniqueFd();
  if (clock_getcpuclockid(*child, &g_peer_clock) == 0) g_has_peer = true;
  return mine;
}

// Waits for the peer (which leaves when its end of the socketpair closes);
// true if it exited 0.
bool ReapPeer(pid_t child) {
  int status = 0;
  ::waitpid(child, &status, 0);
  g_has_peer = false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Forks a signer process serving make_ca()'s CertificateAuthority, and
// returns the client end; the child exits when it closes.
std::unique_ptr<gate::ca::SignerClient> StartSigner(
    const std::function<std::unique_ptr<gate::ca::CertificateAuthority>()>& make_ca, pid_t* child) {
  gate::UniqueFd fd = ForkPeer(
      [&](int signer_fd) {
        auto ca = make_ca();
        // Under the system call filter, as gate-ca's signer serves.
        if (!ca || !gate::ca::InstallSignerSyscallFilter(signer_fd).ok()) ::_exit(1);
        ::_exit(gate::ca::ServeSignerConnection(signer_fd, *ca).ok() ? 0 : 1);
      },
      child);
  if (!fd.valid()) return nullptr;
  auto client = gate::ca::SignerClient::Connect(std::move(fd));
  return client ? std::move(*client) : nullptr;
}

void StopSigner(std::unique_ptr<gate::ca::SignerClient> client, pid_t child) {
  client.reset();
  (void)ReapPeer(child);
}

// The floor of any design with the key in a second process: a child that
// answers each fixed-size message with a raw signature of the same bytes,
// no protocol, no certificate. What the signer protocol costs beyond this
// is gate's; this much is the kernel's (and the machine's) price of two
// processes taking turns.
bool MeasureBareRoundTrip(const LocalSigner& ca, const std::string& message, double seconds,
                          Rate& rate) {
  pid_t child = 0;
  gate::UniqueFd fd = ForkPeer(
      [&](int peer_fd) {
        std::string in(message.size(), '\0');
        for (;;) {
          const ssize_t got = ::recv(peer_fd, in.data(), in.size(), 0);
          if (got <= 0) ::_exit(0);
          auto sig = ca.Sign(in);
          if (!sig || ::send(peer_fd, sig->data(), sig->size(), 0) < 0) ::_exit(1);
        }
      },
      &child);
  if (!fd.valid()) return false;
  char reply[128];
  const bool ok = Measure(
      seconds,
      [&] {
        return ::send(fd.get(), message.data(), message.size(), 0) ==
                   static_cast<ssize_t>(message.size()) &&
               ::recv(fd.get(), reply, sizeof(reply), 0) > 0;
      },
      rate);
  fd.Reset();
  return ReapPeer(child) && ok;
}

// A SQLite store in a fresh temporary directory with one signed-up user.
std::unique_ptr<gate::ca::Store> BenchStore(const std::string& dir) {
  auto store = gate::ca::OpenSqliteStore(dir + "/gate.db");
  if (!store) return nullptr;
  gate::ca::UserRecord alice;
  alice.name = "alice";
  alice.logins = {"alice"};
  alice.password_hash = "$argon2id$bench";
  if (!(*store)->CreateUser(alice).ok() && !(*store)->GetUser("alice")) return nullptr;
  return std::move(*store);
}

}  // namespace

int main(int argc, char** argv) {
  // The signer audits every certificate; a log line each would be the bench.
  gate::log::Init(gate::log::Sink::kStderr, "gate-bench-cert", gate::log::Level::kWarning);
  double seconds = 5;
  std::vector<int> thread_counts = {1, 2, 4, 8};
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::strtod(argv[++i], nullptr);
    } else if (arg == "--threads" && i + 1 < argc) {
      thread_counts.clear();
      for (char* p = argv[++i]; *p != '\0';) {
        char* end = nullptr;
        const long n = std::strtol(p, &end, 10);
        if (end == p || n < 1 || n > 256) return Fail("--threads wants counts like 1,2,4,8");
        thread_counts.push_back(static_cast<int>(n));
        p = *end == ',' ? end + 1 : end;
      }
    } else {
      std::fprintf(stderr, "usage: %s [--seconds N] [--threads 1,2,4,8]\n", argv[0]);
      return 2;
    }
  }
  if (!(seconds > 0)) return Fail("--seconds must be positive");

  auto ca_key = Ed25519PrivateKey::Generate();
  auto user_key = Ed25519PrivateKey::Generate();
  if (!ca_key || !user_key) return Fail("key generation failed");
  const LocalSigner ca(std::move(*ca_key));

  // What gate-ca issues for an interactive login: one principal, the usual
  // three permit-* extensions, a short lifetime.
  CertificateSpec spec;
  spec.type = gate::ssh::CertType::kUser;
  spec.public_key = user_key->public_key();
  spec.serial = 1;
  spec.key_id = "alice@example.com";
  spec.principals = {"alice"};
  spec.valid_after = 1'700'000'000;
  spec.valid_before = spec.valid_after + 8 * 3600;
  spec.extensions = {{std::string(gate::ssh::kPermitPty), ""},
                     {std::string(gate::ssh::kPermitPortForwarding), ""},
                     {std::string(gate::ssh::kPermitAgentForwarding), ""}};

  // Sanity: what we time must be a certificate that parses and verifies.
  auto first = gate::ssh::SignCertificate(spec, ca);
  if (!first) return Fail(first.error().ToString());
  if (auto parsed = gate::ssh::ParseCertificate(first->blob); !parsed) {
    return Fail("issued certificate does not parse: " + parsed.error().ToString());
  }
  // The raw-sign reference signs the same bytes a certificate signature covers:
  // everything but the trailing string(string "ssh-ed25519", string sig64).
  constexpr std::size_t kSignatureField = 4 + 4 + 11 + 4 + 64;
  const std::string message = first->blob.substr(0, first->blob.size() - kSignatureField);

  Rate sign;
  if (!Measure(
          seconds / 2, [&] { return ca.Sign(message).has_value(); }, sign)) {
    return Fail("signing failed");
  }
  Rate issue;
  if (!Measure(
          seconds,
          [&] {
            ++spec.serial;
            return gate::ssh::SignCertificate(spec, ca).has_value();
          },
          issue)) {
    return Fail("issuance failed");
  }

  // Through a signer process, signing only.
  const auto user_key_pub = user_key->public_key();
  const gate::ca::UserCertificateRequest request{
      "alice", std::chrono::hours(8), user_key_pub, {"alice"}, "bench"};
  Rate remote;
  {
    pid_t child = 0;
    auto client = StartSigner([&] { return std::make_unique<SignOnlyCa>(ca, spec); }, &child);
    if (!client) return Fail("cannot start the signer process");
    if (!Measure(
            seconds, [&] { return client->SignUserCertificate(request).has_value(); }, remote)) {
      return Fail("issuance through the signer process failed");
    }
    StopSigner(std::move(client), child);
  }

  Rate bare;
  if (!MeasureBareRoundTrip(ca, message, seconds, bare)) {
    return Fail("the bare round trip to a second process failed");
  }

  // The whole decision with a real store: in process, then through a signer.
  std::string dir_template =
      (std::filesystem::temp_directory_path() / "gate-bench-XXXXXX").string();
  if (::mkdtemp(dir_template.data()) == nullptr) return Fail("mkdtemp failed");
  const std::string dir = dir_template;
  auto make_service = [&](gate::ca::Store& store) {
    gate::ca::CaKeys keys;
    auto user = gate::ssh::Ed25519PrivateKey::Generate();
    auto host = gate::ssh::Ed25519PrivateKey::Generate();
    keys.user = std::make_unique<LocalSigner>(std::move(*user));
    keys.host = std::make_unique<LocalSigner>(std::move(*host));
    return std::make_unique<gate::ca::SignerService>(
        gate::ca::SignerOptions{}, std::move(keys), store,
        [] { return static_cast<std::int64_t>(std::time(nullptr)); });
  };
  Rate local_store;
  Rate remote_store;
  {
    auto store = BenchStore(dir);
    if (!store) return Fail("cannot open the bench store in " + dir);
    auto service = make_service(*store);
    if (!Measure(
            seconds, [&] { return service->SignUserCertificate(request).has_value(); },
            local_store)) {
      return Fail("in-process issuance with the store failed");
    }
  }
  // A signer process whose CertificateAuthority is SignerService over the
  // bench store (opened in the child, as gate-ca's signer opens its own).
  std::unique_ptr<gate::ca::Store> child_store;
  auto start_store_signer = [&](pid_t* child) {
    return StartSigner(
        [&]() -> std::unique_ptr<gate::ca::CertificateAuthority> {
          child_store = BenchStore(dir);
          if (!child_store) return nullptr;
          return make_service(*child_store);
        },
        child);
  };
  {
    pid_t child = 0;
    auto client = start_store_signer(&child);
    if (!client) return Fail("cannot start the signer process");
    if (!Measure(
            seconds, [&] { return client->SignUserCertificate(request).has_value(); },
            remote_store)) {
      return Fail("issuance through the signer process with the store failed");
    }
    StopSigner(std::move(client), child);
  }

  // Concurrent: N threads through one client, with several requests in
  // flight (pipelined) and one at a time (serial); signing only, then with
  // the store.
  struct Concurrent {
    int threads;
    Rate pipelined, serial, store_pipelined;
  };
  std::vector<Concurrent> concurrent;
  for (int threads : thread_counts) {
    Concurrent c{threads, {}, {}, {}};
    pid_t child = 0;
    auto client = StartSigner([&] { return std::make_unique<SignOnlyCa>(ca, spec); }, &child);
    if (!client) return Fail("cannot start the signer process");
    std::mutex one_at_a_time;
    if (!MeasureConcurrent(
            seconds, threads, [&] { return client->SignUserCertificate(request).has_value(); },
            c.pipelined) ||
        !MeasureConcurrent(
            seconds, threads,
            [&] {
              std::lock_guard<std::mutex> lock(one_at_a_time);
              return client->SignUserCertificate(request).has_value();
            },
            c.serial)) {
      return Fail("concurrent issuance through the signer process failed");
    }
    StopSigner(std::move(client), child);

    auto store_client = start_store_signer(&child);
    if (!store_client) return Fail("cannot start the signer process");
    if (!MeasureConcurrent(
            seconds, threads,
            [&] { return store_client->SignUserCertificate(request).has_value(); },
            c.store_pipelined)) {
      return Fail("concurrent issuance with the store failed");
    }
    StopSigner(std::move(store_client), child);
    concurrent.push_back(c);
  }
  std::filesystem::remove_all(dir);

  std::printf("certificate size: %zu bytes (signed part %zu)\n", first->blob.size(),
              message.size());
  std::printf("raw Ed25519 sign:  %9.0f /s per CPU-s  %9.0f /s wall  (%ld in %.2fs)\n",
              sign.PerCpuSecond(), sign.PerWallSecond(), sign.count, sign.wall);
  std::printf("cert issuance:     %9.0f /s per CPU-s  %9.0f /s wall  (%ld in %.2fs)\n",
              issue.PerCpuSecond(), issue.PerWallSecond(), issue.count, issue.wall);
  std::printf("via signer process: %9.0f /s per CPU-s  %9.0f /s wall  (%ld in %.2fs)\n",
              remote.PerCpuSecond(), remote.PerWallSecond(), remote.count, remote.wall);
  std::printf("floor, raw sign in a 2nd process: %9.0f /s per CPU-s  %9.0f /s wall\n",
              bare.PerCpuSecond(), bare.PerWallSecond());
  std::printf("decision+store:    %9.0f /s per CPU-s  %9.0f /s wall  (%ld in %.2fs)\n",
              local_store.PerCpuSecond(), local_store.PerWallSecond(), local_store.count,
              local_store.wall);
  std::printf("same, via signer:  %9.0f /s per CPU-s  %9.0f /s wall  (%ld in %.2fs)\n",
              remote_store.PerCpuSecond(), remote_store.PerWallSecond(), remote_store.count,
              remote_store.wall);
  std::printf("issuance/sign: %.3f\n", issue.PerCpuSecond() / sign.PerCpuSecond());
  for (const Concurrent& c : concurrent) {
    std::printf(
        "%d threads via signer: pipelined %9.0f /s per CPU-s (%.1f us CPU/cert) %9.0f /s wall; "
        "one at a time %9.0f /s per CPU-s %9.0f /s wall; with store, pipelined %7.0f /s per "
        "CPU-s %7.0f /s wall\n",
        c.threads, c.pipelined.PerCpuSecond(), 1e6 / c.pipelined.PerCpuSecond(),
        c.pipelined.PerWallSecond(), c.serial.PerCpuSecond(), c.serial.PerWallSecond(),
        c.store_pipelined.PerCpuSecond(), c.store_pipelined.PerWallSecond());
  }
  std::printf(
      "RESULT certs_per_cpu_sec=%.0f certs_per_wall_sec=%.0f sign_per_cpu_sec=%.0f "
      "signer_per_cpu_sec=%.0f signer_per_wall_sec=%.0f store_per_cpu_sec=%.0f "
      "signer_store_per_cpu_sec=%.0f signer_store_per_wall_sec=%.0f bare_per_cpu_sec=%.0f\n",
      issue.PerCpuSecond(), issue.PerWallSecond(), sign.PerCpuSecond(), remote.PerCpuSecond(),
      remote.PerWallSecond(), local_store.PerCpuSecond(), remote_store.PerCpuSecond(),
      remote_store.PerWallSecond(), bare.PerCpuSecond());
  for (const Concurrent& c : concurrent) {
    std::printf(
        "CONCURRENT threads=%d pipelined_per_cpu_sec=%.0f pipelined_per_wall_sec=%.0f "
        "serial_per_cpu_sec=%.0f serial_per_wall_sec=%.0f store_per_cpu_sec=%.0f "
        "store_per_wall_sec=%.0f\n",
        c.threads, c.pipelined.PerCpuSecond(), c.pipelined.PerWallSecond(), c.serial.PerCpuSecond(),
        c.serial.PerWallSecond(), c.store_pipelined.PerCpuSecond(),
        c.store_pipelined.PerWallSecond());
  }
  return 0;
}
