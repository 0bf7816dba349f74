// The TLS identity of gate-ca's HTTPS listener: a self-signed certificate
// made on first start, the SPKI pin clients use to trust it (what
// `gate-ca start` prints and `gate login --ca-pin` takes), and the OpenSSL
// settings the listener serves it with. The HTTP layer (api/) gets an
// SSL_CTX from here and makes no OpenSSL calls of its own.
//
// This key only authenticates the HTTPS endpoint; it is not the SSH CA key.
//
// Thread safety: the functions share no state; two processes racing
// EnsureSelfSignedCert on the same paths may each write a pair, and the
// last rename wins for each file (so run it once, at start-up).
#ifndef GATE_CA_SIGNER_TLS_CERT_H_
#define GATE_CA_SIGNER_TLS_CERT_H_

#include <openssl/types.h>

#include <string>
#include <vector>

#include "gate/status.h"

namespace gate::ca {

// Makes sure cert_path (PEM certificate) and key_path (PEM PKCS#8 private
// key) hold a usable pair.
//   - Both exist: they are left as they are, after checking the key file the
//     way every secret is checked (regular file, not a symlink, owned by the
//     effective uid, mode without group/other bits: PermissionDenied naming
//     the fix, e.g. "chmod 600 <key>"), and that the key belongs to the
//     certificate (InvalidArgument otherwise).
//   - Only the key exists (a start that died between the two writes): a new
//     certificate is made for that key, so the pin stays the same.
//   - Only the certificate exists: FailedPrecondition; it is never replaced,
//     since it may be the operator's own.
//   - Neither exists: a new ECDSA P-256 key (the curve every TLS client
//     supports) is written with mode 0600, then a self-signed X.509 v3
//     certificate with mode 0644: valid from 5 minutes ago (clock skew) for
//     365 days, random 128-bit serial, CN = dns_names[0] (else the first IP,
//     else "gate-ca"), subjectAltName = every DNS name and IP address,
//     basicConstraints CA:FALSE, extendedKeyUsage serverAuth. It carries no
//     keyUsage, so OpenSSL also accepts it as its own trust anchor
//     (`curl --cacert cert.pem`), not only through the pin.
// Each file is written atomically (temp file, fsync, rename), key first.
// dns_names must be host names ([A-Za-z0-9.-], optionally a leading "*.");
// ip_addresses must be IPv4 or IPv6 literals; otherwise InvalidArgument and
// nothing is written.
Status EnsureSelfSignedCert(const std::string& cert_path, const std::string& key_path,
                            const std::vector<std::string>& dns_names,
                            const std::vector<std::string>& ip_addresses);

// "sha256:<64 lowercase hex digits>": the SHA-256 of the DER
// SubjectPublicKeyInfo of the first certificate in the PEM file at
// cert_path. This is the same digest libcurl's CURLOPT_PINNEDPUBLICKEY
// "sha256//<base64>" checks (gate::PinToCurl converts). It does not change
// when the certificate is renewed for the same key.
// NotFound if the file is missing; InvalidArgument if it holds no PEM
// certificate.
Result<std::string> SpkiPinFromCertFile(const std::string& cert_path);

// Sets up a server-side OpenSSL context the way gate serves HTTPS: TLS 1.2
// or 1.3 only; for TLS 1.2, ECDHE key exchange with AEAD ciphers only, in
// the server's order of preference; no compression; no renegotiation.
// Loads the PEM certificate chain from cert_path and the PEM private key
// from key_path, the key checked as a secret (owner and mode, as in
// EnsureSelfSignedCert), and checks that they belong together.
// Errors: NotFound (a file is missing), PermissionDenied (key file unsafe),
// InvalidArgument (unreadable PEM or mismatched pair), Internal.
// On failure ctx may be half configured; throw it away.
Status ConfigureTlsServerContext(SSL_CTX* ctx, const std::string& cert_path,
                                 const std::string& key_path);

}  // namespace gate::ca

#endif  // GATE_CA_SIGNER_TLS_CERT_H_
