// HostIssuer: signs OpenSSH host certificates for joined nodes with the host
// CA, so clients that trust gate's host CA (@cert-authority) can check a
// node's host key without trust-on-first-use. Whether a node may have a
// certificate is the caller's decision (node join token, node credential);
// this layer re-checks the shape of what it asks for, and the signer
// process (CertificateAuthority) signs only for a registered node's
// registered host key.
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

#include "ca-server/issuer/certificate_authority.h"
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

// The names of `asked` that are not in `approved`, compared without case
// (host names are; ssh lowercases the name it connects to), in asked's order.
// gate-ca decides a node's host names; this is how a request is held to them.
std::vector<std::string> UnapprovedHostNames(const std::vector<std::string>& asked,
                                             const std::vector<std::string>& approved);

// "a, b, c", for messages and the audit log.
std::string FormatHostNames(const std::vector<std::string>& names);

// hostname, then each of extra not already in the list (without case).
std::vector<std::string> HostNamesWith(const std::string& hostname,
                                       const std::vector<std::string>& extra);

class HostIssuer {
 public:
  explicit HostIssuer(CertificateAuthority& ca) : ca_(ca) {}

  // A host certificate for key: key id = host_uuid, the given principals,
  // a random non-zero serial, valid for SignerOptions::host_ttl from a
  // minute ago, no extensions or critical options. InvalidArgument for a
  // host UUID that is not shaped like NewHostUuid's (auth/node_auth.h) or
  // bad principals; else the signer's refusal (the node must be registered
  // with this host key) or Unavailable.
  Result<ssh::Certificate> IssueHostCertificate(const std::string& host_uuid,
                                                const ssh::Ed25519PublicKey& key,
                                                const std::vector<std::string>& principals,
                                                const std::string& source = "") const;

  const ssh::Ed25519PublicKey& host_ca() const { return ca_.host_ca(); }

 private:
  CertificateAuthority& ca_;
};

}  // namespace gate::ca

#endif  // GATE_CA_ISSUER_HOST_ISSUER_H_
