// gate-bench-cert: single-threaded, in-process certificate issuance rate
// (encode + sign with a fresh nonce, as the CA does per request), beside the
// raw Ed25519 signature rate of the same key for reference.
//
// Usage: gate-bench-cert [--seconds N]
//
// Rates are reported per CPU-second of this process (the way `openssl speed`
// counts, so the two compare on a busy machine) and per wall-clock second.
// The last line is machine-readable for bench/cert-issuance.sh.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "gate/certificate.h"
#include "gate/ed25519.h"

namespace {

using gate::ssh::CertificateSpec;
using gate::ssh::Ed25519PrivateKey;
using gate::ssh::LocalSigner;

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

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
  const double cpu0 = CpuSeconds();
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
  rate.cpu = CpuSeconds() - cpu0;
  rate.wall = wall - wall0;
  return true;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "gate-bench-cert: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::strtod(argv[++i], nullptr);
    } else {
      std::fprintf(stderr, "usage: %s [--seconds N]\n", argv[0]);
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

  std::printf("certificate size: %zu bytes (signed part %zu)\n", first->blob.size(),
              message.size());
  std::printf("raw Ed25519 sign:  %9.0f /s per CPU-s  %9.0f /s wall  (%ld in %.2fs)\n",
              sign.PerCpuSecond(), sign.PerWallSecond(), sign.count, sign.wall);
  std::printf("cert issuance:     %9.0f /s per CPU-s  %9.0f /s wall  (%ld in %.2fs)\n",
              issue.PerCpuSecond(), issue.PerWallSecond(), issue.count, issue.wall);
  std::printf("issuance/sign: %.3f\n", issue.PerCpuSecond() / sign.PerCpuSecond());
  std::printf("RESULT certs_per_cpu_sec=%.0f certs_per_wall_sec=%.0f sign_per_cpu_sec=%.0f\n",
              issue.PerCpuSecond(), issue.PerWallSecond(), sign.PerCpuSecond());
  return 0;
}
