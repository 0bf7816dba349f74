// The node's host certificate (ssh_host_ed25519_key-cert.pub): when it is
// good enough to keep, and whether a certificate gate-ca sent is for us.
#ifndef GATE_SSHD_HOOKS_NODE_HOST_CERT_H_
#define GATE_SSHD_HOOKS_NODE_HOST_CERT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "gate/certificate.h"
#include "gate/ed25519.h"
#include "gate/status.h"

namespace gate::hooks {

// OK if cert is a host certificate for host_key, valid at now.
// FailedPrecondition saying what is wrong otherwise.
Status CheckHostCertificate(const ssh::Certificate& cert, const ssh::Ed25519PublicKey& host_key,
                            std::int64_t now);

// True when less than a third of the certificate's lifetime remains (or it
// is not valid at all at now). A third of gate's 30 days is 10 days: a node
// that cannot reach gate-ca has that long before clients start refusing it.
bool HostCertNeedsRenewal(const ssh::Certificate& cert, std::int64_t now);

// Reads and parses an ssh_host_*-cert.pub file. NotFound if absent.
Result<ssh::Certificate> ReadHostCertificate(const std::string& path);

// Parses the host public key file (ssh_host_ed25519_key.pub).
Result<ssh::Ed25519PublicKey> ReadHostPublicKey(const std::string& path);

// "2025-01-31 12:34 UTC" for summaries.
std::string FormatUnixTime(std::int64_t t);

}  // namespace gate::hooks

#endif  // GATE_SSHD_HOOKS_NODE_HOST_CERT_H_
