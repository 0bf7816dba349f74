#include "ca-server/issuer/issuer.h"

#include <algorithm>

#include "gate/bytes.h"

namespace gate::ca {
namespace {

// Every gate user certificate carries these; roles will narrow them later.
const std::vector<std::string>& DefaultExtensions() {
  static const std::vector<std::string> kExtensions = {
      std::string(ssh::kPermitAgentForwarding), std::string(ssh::kPermitPortForwarding),
      std::string(ssh::kPermitPty)};
  return kExtensions;
}

// A 64-bit serial collides with one already issued with negligible odds; the
// store still refuses a reuse, so a few retries make "never reused" certain.
constexpr int kSerialAttempts = 4;

}  // namespace

std::chrono::seconds Issuer::EffectiveTtl(std::chrono::seconds requested_ttl) const {
  const auto ttl = requested_ttl.count() == 0 ? options_.default_ttl : requested_ttl;
  return std::min(ttl, options_.max_ttl);
}

Result<IssuedUserCertificate> Issuer::IssueUserCertificate(
    const UserRecord& user, const ssh::Ed25519PublicKey& key,
    std::chrono::seconds requested_ttl, std::int64_t now) const {
  if (requested_ttl.count() < 0) return Err(InvalidArgument("certificate TTL must be positive"));
  if (user.logins.empty()) {
    return Err(FailedPrecondition("user " + user.name + " has no logins; ask an admin to add some"));
  }
  const auto ttl = EffectiveTtl(requested_ttl);

  ssh::CertificateSpec spec;
  spec.type = ssh::CertType::kUser;
  spec.public_key = key;
  spec.key_id = user.name;
  spec.principals = user.logins;
  spec.valid_after = static_cast<std::uint64_t>(now - options_.backdate.count());
  spec.valid_before = static_cast<std::uint64_t>(now + ttl.count());
  for (const auto& ext : DefaultExtensions()) spec.extensions.emplace(ext, "");

  for (int attempt = 0; attempt < kSerialAttempts; ++attempt) {
    auto serial = RandomU64();
    if (!serial) return Err(serial.error());
    if (*serial == 0) continue;  // 0 reads as "no serial" in OpenSSH tools
    spec.serial = *serial;

    IssuedCertificate record;
    record.serial = spec.serial;
    record.user = user.name;
    record.key_id = spec.key_id;
    record.valid_after = static_cast<std::int64_t>(spec.valid_after);
    record.valid_before = static_cast<std::int64_t>(spec.valid_before);
    record.issued_at = now;
    Status recorded = store_.RecordCertificate(record);
    if (recorded.code() == Code::kAlreadyExists) continue;
    GATE_RETURN_IF_ERROR(recorded);

    auto cert = ssh::SignCertificate(spec, user_ca_);
    if (!cert) return Err(cert.error());
    return IssuedUserCertificate{std::move(*cert), DefaultExtensions()};
  }
  return Err(Internal("could not allocate a unique certificate serial"));
}

}  // namespace gate::ca
