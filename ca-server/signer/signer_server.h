// The signer's side of the socketpair: reads requests, asks the
// CertificateAuthority (SignerService), writes replies. No JSON, no network,
// nothing but the frames of signer/protocol.h.
#ifndef GATE_CA_SIGNER_SIGNER_SERVER_H_
#define GATE_CA_SIGNER_SIGNER_SERVER_H_

#include "ca-server/issuer/certificate_authority.h"
#include "gate/status.h"

namespace gate::ca {

// Serves one request from fd: blocks until a whole frame has arrived, then
// answers it (a refusal is an SignerErrorReply, and still a served request).
// Returns true after a reply, false at a clean end of stream. A frame that is
// not a well-formed request (bad length, version, type or field) gets an
// SignerErrorReply naming the problem and returns that error: the caller must then
// close the connection, since the stream cannot be trusted to be in step.
Result<bool> ServeSignerRequest(int fd, CertificateAuthority& ca);

// ServeSignerRequest until the peer closes (OK) or an error (returned).
Status ServeSignerConnection(int fd, CertificateAuthority& ca);

}  // namespace gate::ca

#endif  // GATE_CA_SIGNER_SIGNER_SERVER_H_
