// OpenSSH certificates (PROTOCOL.certkeys), type ssh-ed25519-cert-v01@openssh.com,
// signed by an Ed25519 CA. Encoding and parsing are pure functions; signing
// goes through the narrow Signer interface so the CA private key can live in
// another process.
#ifndef GATE_CERTIFICATE_H_
#define GATE_CERTIFICATE_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "gate/ed25519.h"
#include "gate/status.h"

namespace gate::ssh {

enum class CertType : std::uint32_t { kUser = 1, kHost = 2 };

// The standard user-certificate extensions, as ssh-keygen names them.
inline constexpr std::string_view kPermitPty = "permit-pty";
inline constexpr std::string_view kPermitPortForwarding = "permit-port-forwarding";
inline constexpr std::string_view kPermitAgentForwarding = "permit-agent-forwarding";
inline constexpr std::string_view kPermitX11Forwarding = "permit-X11-forwarding";
inline constexpr std::string_view kPermitUserRc = "permit-user-rc";

// Everything the CA decides; the nonce and signature are added when signing.
struct CertificateSpec {
  CertType type = CertType::kUser;
  Ed25519PublicKey public_key;  // the key being certified
  std::uint64_t serial = 0;
  std::string key_id;  // gate: the user name (user certs) or host UUID
  std::vector<std::string> principals;
  std::uint64_t valid_after = 0;  // seconds since the epoch
  std::uint64_t valid_before = 0;
  std::map<std::string, std::string> critical_options;  // name -> value ("" if none)
  std::map<std::string, std::string> extensions;        // name -> value ("" for flags)
};

struct Certificate {
  CertificateSpec spec;
  std::string nonce;
  Ed25519PublicKey signature_key;  // the CA that signed it
  std::string blob;                // the whole encoded certificate
};

// What the CA private key is used through. Implementations must be safe to
// call from several threads at once.
class Signer {
 public:
  virtual ~Signer() = default;
  virtual const Ed25519PublicKey& public_key() const = 0;
  // Ed25519 signature (64 bytes) over data.
  virtual Result<std::string> Sign(std::string_view data) const = 0;
};

// A Signer over a private key held in this process.
class LocalSigner final : public Signer {
 public:
  explicit LocalSigner(Ed25519PrivateKey key) : key_(std::move(key)) {}
  const Ed25519PublicKey& public_key() const override { return key_.public_key(); }
  Result<std::string> Sign(std::string_view data) const override { return key_.Sign(data); }

 private:
  Ed25519PrivateKey key_;
};

// Encodes and signs spec with a fresh 32-byte random nonce. Refuses (InvalidArgument)
// a spec with no public key, valid_after >= valid_before, an empty key_id or
// one containing NUL, more than 256 principals, principals/extension/critical
// option names that are empty or contain NUL, any of those or the key id over
// 1024 bytes, or an encoding over 64 KiB (kMaxStringLength, ssh_wire.h).
// Extensions and critical options are emitted in lexical order as the spec requires.
Result<Certificate> SignCertificate(const CertificateSpec& spec, const Signer& ca);

// Parses an ed25519 certificate blob and verifies its signature against the
// embedded signature key. Does NOT decide whether that CA is trusted or whether
// the certificate is currently valid: see CheckValidity and the caller's policy.
// Any deviation from the format (trailing bytes, unsorted or duplicate
// extensions, non-ed25519 signature, bad signature) is an error.
Result<Certificate> ParseCertificate(std::string_view blob);

// Only for a certificate that sshd has already verified: sshd's %k token in
// an AuthorizedPrincipalsCommand (sshd checks a certificate's signature when
// it parses the user's key, and its CA against TrustedUserCAKeys, before it
// runs the command). Same structural checks as ParseCertificate, without the
// signature check, which in OpenSSL 3 costs a cold provider fetch of about
// 0.9 ms — half the hook's time budget — and adds nothing to sshd's own.
// The caller must still check signature_key against its trusted CA keys.
// Never use it on a certificate from anywhere else.
Result<Certificate> ParseCertificateVerifiedBySshd(std::string_view blob);

// Only for a certificate this program's own CA signer process has just made
// and handed back over its private socketpair (gate-ca's front end): the same
// structural checks, without the signature check, which costs about twice the
// signature itself. The caller must check signature_key is its CA.
Result<Certificate> ParseCertificateFromOwnSigner(std::string_view blob);

// "ssh-ed25519-cert-v01@openssh.com BASE64 comment" <-> blob.
std::string CertificateLine(const Certificate& cert, std::string_view comment = {});
Result<Certificate> ParseCertificateLine(std::string_view line);
// The same for a line sshd has already verified (SSH_AUTH_INFO_0, the
// ExposeAuthInfo file): see ParseCertificateVerifiedBySshd.
Result<Certificate> ParseCertificateLineVerifiedBySshd(std::string_view line);

// OK if valid_after <= now < valid_before, else FailedPrecondition
// ("certificate expired ..." / "not yet valid").
Status CheckValidity(const Certificate& cert, std::uint64_t now);

}  // namespace gate::ssh

#endif  // GATE_CERTIFICATE_H_
