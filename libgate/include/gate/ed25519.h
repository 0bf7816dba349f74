// Ed25519 keys in OpenSSH form, on OpenSSL's EVP_PKEY_ED25519.
//
// Public keys are values (32 raw bytes). Private keys own an EVP_PKEY and
// wipe their seed copies. All methods are thread-safe on distinct objects;
// const methods are safe to call concurrently on one object.
#ifndef GATE_ED25519_H_
#define GATE_ED25519_H_

#include <memory>
#include <string>
#include <string_view>

#include "gate/secret.h"
#include "gate/status.h"

namespace gate::ssh {

inline constexpr std::string_view kEd25519KeyType = "ssh-ed25519";
inline constexpr std::string_view kEd25519CertType = "ssh-ed25519-cert-v01@openssh.com";

class Ed25519PublicKey {
 public:
  // raw: exactly 32 bytes, else InvalidArgument.
  static Result<Ed25519PublicKey> FromRaw(std::string_view raw);
  // Parses the wire blob: string "ssh-ed25519", string pk(32). Nothing may follow.
  static Result<Ed25519PublicKey> FromBlob(std::string_view blob);
  // Parses an authorized_keys / .pub line: "ssh-ed25519 BASE64 [comment]".
  // Leading/trailing whitespace is ignored; other key types are refused.
  static Result<Ed25519PublicKey> FromAuthorizedKey(std::string_view line);

  const std::string& raw() const { return raw_; }
  std::string Blob() const;
  // "ssh-ed25519 BASE64" plus " comment" if comment is non-empty.
  std::string AuthorizedKey(std::string_view comment = {}) const;
  // "SHA256:<unpadded base64 of sha256(blob)>", as ssh-keygen -l prints.
  std::string Fingerprint() const;
  // True only if sig is a valid 64-byte Ed25519 signature over message.
  bool Verify(std::string_view message, std::string_view signature) const;

  bool operator==(const Ed25519PublicKey&) const = default;

 private:
  std::string raw_;
};

class Ed25519PrivateKey {
 public:
  static Result<Ed25519PrivateKey> Generate();
  // seed: exactly 32 bytes.
  static Result<Ed25519PrivateKey> FromSeed(std::string_view seed);

  Ed25519PrivateKey(Ed25519PrivateKey&&) noexcept;
  Ed25519PrivateKey& operator=(Ed25519PrivateKey&&) noexcept;
  ~Ed25519PrivateKey();

  const Ed25519PublicKey& public_key() const { return public_key_; }
  SecretBytes Seed() const;  // 32 bytes
  // 64-byte signature; Internal if OpenSSL fails.
  Result<std::string> Sign(std::string_view message) const;

 private:
  struct Impl;
  Ed25519PrivateKey(std::unique_ptr<Impl> impl, Ed25519PublicKey pub);
  std::unique_ptr<Impl> impl_;
  Ed25519PublicKey public_key_;
};

// The OpenSSH private key file format ("openssh-key-v1", PROTOCOL.key),
// unencrypted (cipher "none"), as `ssh-keygen -t ed25519 -N ''` writes it,
// so the files gate writes are readable by ssh, ssh-add and ssh-keygen.
// Returns an empty string for a moved-from key.
SecretString EncodeOpenSshPrivateKey(const Ed25519PrivateKey& key, std::string_view comment);
// Parses such a file. Encrypted keys, other key types, a public half that does
// not match the private half, and bad check bytes are refused.
Result<Ed25519PrivateKey> DecodeOpenSshPrivateKey(std::string_view pem);

}  // namespace gate::ssh

#endif  // GATE_ED25519_H_
