// HostIssuer: signs OpenSSH host certificates for joined nodes with the host
// CA, so clients that trust gate's host CA (@cert-authority) can check a
// node's host key without trust-on-first-use. Whether a node may have a
// certificate is the caller's decision (node join token, node credential);
// this layer re-checks the shape of what it signs.
//
// Thread safety: const methods; safe to call concurrently if the Signer is.
#ifndef GATE_CA_ISSUER_HOST_ISSUER_H_
#define GATE_CA_ISSUER_HOST_ISSUER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gate/certificate.h"
#include "gate/status.h"

namespace gate::ca {

inline constexpr std::size_t kMaxHostPrincipals = 32;
inline constexpr std::size_t kMaxHostPrincipalLength = 253;  // a full DNS name

// A host principal (a host name, FQDN or IP address literal as clients type
// it): 1-253 of [A-Za-z0-9.:-], not starting with '-'. InvalidArgument
// naming the value otherwise.
Status ValidateHostPrincipal(std::string_view principal);
// 1 to kMaxHostPrincipals principals, each valid, none repeated.
Status ValidateHostPrincipals(const std::vector<std::string>& principals);

struct HostIssuerOptions {
  std::chrono::seconds ttl{30 * 24 * 3600};
  // As for user certificates: a client whose clock is slightly behind still
  // accepts a fresh certificate.
  std::chrono::seconds backdate{60};
};

class HostIssuer {
 public:
  HostIssuer(HostIssuerOptions options, const ssh::Signer& host_ca)
      : options_(options), host_ca_(host_ca) {}

  // A host certificate for key: key id = host_uuid, the given principals,
  // a random non-zero serial, valid from now - backdate to now + ttl, no
  // extensions or critical options. InvalidArgument for a host UUID that is
  // not shaped like NewHostUuid's (auth/node_auth.h) or bad principals; else whatever signing
  // reports.
  Result<ssh::Certificate> IssueHostCertificate(const std::string& host_uuid,
                                                const ssh::Ed25519PublicKey& key,
                                                const std::vector<std::string>& principals,
                                                std::int64_t now) const;

  const ssh::Ed25519PublicKey& host_ca() const { return host_ca_.public_key(); }

 private:
  HostIssuerOptions options_;
  const ssh::Signer& host_ca_;
};

}  // namespace gate::ca

#endif  // GATE_CA_ISSUER_HOST_ISSUER_H_
