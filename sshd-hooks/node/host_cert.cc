#include "sshd-hooks/node/host_cert.h"

#include <time.h>

#include "gate/secure_file.h"

namespace gate::hooks {

Status CheckHostCertificate(const ssh::Certificate& cert, const ssh::Ed25519PublicKey& host_key,
                            std::int64_t now) {
  if (cert.spec.type != ssh::CertType::kHost) {
    return FailedPrecondition("the certificate is not a host certificate");
  }
  if (!(cert.spec.public_key == host_key)) {
    return FailedPrecondition("the certificate is for another key than this host's (" +
                              cert.spec.public_key.Fingerprint() + ", host key " +
                              host_key.Fingerprint() + ")");
  }
  if (now < 0) return FailedPrecondition("clock before the epoch");
  return ssh::CheckValidity(cert, static_cast<std::uint64_t>(now));
}

bool HostCertNeedsRenewal(const ssh::Certificate& cert, std::int64_t now) {
  if (now < 0) return true;
  const std::uint64_t t = static_cast<std::uint64_t>(now);
  const std::uint64_t after = cert.spec.valid_after;
  const std::uint64_t before = cert.spec.valid_before;
  if (t < after || t >= before) return true;
  const std::uint64_t lifetime = before - after;
  return before - t < lifetime / 3;
}

Result<ssh::Certificate> ReadHostCertificate(const std::string& path) {
  auto text = ReadFile(path, 64 * 1024);
  if (!text) return Err(text.error());
  auto cert = ssh::ParseCertificateLine(*text);
  if (!cert) return Err(cert.error().WithContext(path));
  return cert;
}

Result<ssh::Ed25519PublicKey> ReadHostPublicKey(const std::string& path) {
  auto text = ReadFile(path, 16 * 1024);
  if (!text) {
    return Err(
        text.error().WithContext("cannot read the host key (generate it with "
                                 "ssh-keygen -A)"));
  }
  auto key = ssh::Ed25519PublicKey::FromAuthorizedKey(*text);
  if (!key) return Err(key.error().WithContext(path));
  return key;
}

std::string FormatUnixTime(std::int64_t t) {
  const time_t tt = static_cast<time_t>(t);
  struct tm tm {};
  if (::gmtime_r(&tt, &tm) == nullptr) return std::to_string(t);
  char buf[64];
  if (::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M UTC", &tm) == 0) return std::to_string(t);
  return buf;
}

}  // namespace gate::hooks
