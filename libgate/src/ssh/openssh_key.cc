// The unencrypted openssh-key-v1 private key format (OpenSSH PROTOCOL.key).
//
// Everything that holds private bytes (the private section, the whole binary
// file, its base64 form) lives in SecretString or is wiped explicitly before
// it is freed, and buffers are sized before they are filled so that growth
// never leaves a stray copy behind in freed heap.
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>

#include "gate/bytes.h"
#include "gate/ed25519.h"
#include "gate/secret.h"
#include "gate/ssh_wire.h"

namespace gate::ssh {
namespace {

constexpr std::string_view kBeginMarker = "-----BEGIN OPENSSH PRIVATE KEY-----";
constexpr std::string_view kEndMarker = "-----END OPENSSH PRIVATE KEY-----";
// "openssh-key-v1" including its terminating NUL.
constexpr std::string_view kAuthMagic{"openssh-key-v1\0", 15};
constexpr std::string_view kCipherNone = "none";
constexpr std::string_view kKdfNone = "none";
// Cipher "none" pads the private section to 8 bytes, as ssh-keygen does.
constexpr std::size_t kBlockSize = 8;
constexpr std::size_t kLineLength = 70;
constexpr std::size_t kSeedSize = 32;
constexpr std::size_t kPublicSize = 32;
constexpr std::size_t kSecretSize = 64;  // seed || public key
// A generous cap: an ed25519 key file is ~400 bytes; this only bounds work
// done on a hostile or mistaken input.
constexpr std::size_t kMaxFileSize = 64 * 1024;

// Wire encoders onto a SecretString, sized by the caller beforehand.
void AppendU32(SecretString& out, std::uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

void AppendString(SecretString& out, std::string_view s) {
  AppendU32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s.data(), s.size());
}

// Wipes a std::string's heap buffer when it goes out of scope: used for the
// decoded key file, which Base64Decode returns as a plain std::string.
class WipeOnExit {
 public:
  explicit WipeOnExit(std::string& s) : s_(s) {}
  ~WipeOnExit() { Wipe(s_.data(), s_.capacity()); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  std::string& s_;
};

Status ParsePrivateSection(std::string_view section, const Ed25519PublicKey& outer_pub,
                           SecretBytes& seed_out) {
  if (section.size() % kBlockSize != 0) {
    return InvalidArgument("private section is not a multiple of the block size");
  }
  Reader r(section);
  auto check1 = r.GetU32();
  auto check2 = r.GetU32();
  if (!check1 || !check2) return DataLoss("truncated check bytes");
  // For encrypted keys a mismatch means a wrong passphrase; for "none" it
  // means the file is corrupt.
  if (*check1 != *check2) return InvalidArgument("check bytes do not match");
  auto type = r.GetString(64);
  if (!type) return type.error();
  if (*type != kEd25519KeyType) {
    return InvalidArgument("private key type \"" + std::string(*type) + "\" is not ssh-ed25519");
  }
  auto pk = r.GetString(kPublicSize);
  if (!pk) return pk.error();
  auto sk = r.GetString(kSecretSize);
  if (!sk) return sk.error();
  if (pk->size() != kPublicSize || sk->size() != kSecretSize) {
    return InvalidArgument("ed25519 key has the wrong length");
  }
  auto comment = r.GetString();
  if (!comment) return comment.error();
  // Padding is 1, 2, 3, ... up to the block size; anything else is corruption.
  std::size_t i = 0;
  while (!r.empty()) {
    auto b = r.GetU8();
    if (!b) return b.error();
    ++i;
    if (i >= kBlockSize || *b != i) return InvalidArgument("bad padding");
  }
  if (*pk != outer_pub.raw()) {
    return InvalidArgument("public key does not match the private section");
  }
  if (sk->substr(kSeedSize) != *pk) {
    return InvalidArgument("private key's public half does not match");
  }
  seed_out.assign(sk->begin(), sk->begin() + kSeedSize);
  return Status::Ok();
}

}  // namespace

SecretString EncodeOpenSshPrivateKey(const Ed25519PrivateKey& key, std::string_view comment) {
  const SecretBytes seed = key.Seed();
  // Only a moved-from key has no seed; an empty result is unmistakable,
  // where a file with a missing seed would look like a key.
  if (seed.size() != kSeedSize) return SecretString();
  const std::string& pk = key.public_key().raw();
  const std::string pub_blob = key.public_key().Blob();

  // The check integers only detect a wrong passphrase on encrypted keys; for
  // cipher "none" their value carries no security, so if the RNG fails a
  // constant is as good as any.
  std::uint32_t check = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&check), sizeof check) != 1) check = 0;

  // Private section: check, check, type, pk, sk(seed||pk), comment, padding.
  const std::size_t unpadded = 4 + 4 + (4 + kEd25519KeyType.size()) + (4 + kPublicSize) +
                               (4 + kSecretSize) + (4 + comment.size());
  const std::size_t padded = (unpadded + kBlockSize - 1) / kBlockSize * kBlockSize;
  SecretString section;
  section.reserve(padded);
  AppendU32(section, check);
  AppendU32(section, check);
  AppendString(section, kEd25519KeyType);
  AppendString(section, pk);
  AppendU32(section, static_cast<std::uint32_t>(kSecretSize));
  section.append(reinterpret_cast<const char*>(seed.data()), seed.size());
  section.append(pk);
  AppendString(section, comment);
  for (char pad = 1; section.size() < padded; ++pad) section.push_back(pad);

  const std::size_t file_size = kAuthMagic.size() + (4 + kCipherNone.size()) +
                                (4 + kKdfNone.size()) + 4 + 4 + (4 + pub_blob.size()) +
                                (4 + section.size());
  SecretString file;
  file.reserve(file_size);
  file.append(kAuthMagic.data(), kAuthMagic.size());
  AppendString(file, kCipherNone);
  AppendString(file, kKdfNone);
  AppendString(file, "");  // kdfoptions
  AppendU32(file, 1);      // number of keys
  AppendString(file, pub_blob);
  AppendString(file, section.view());

  // Base64 straight into a wiped buffer (gate::Base64Encode returns a plain
  // std::string, which would leave the key behind in freed memory).
  SecretString b64;
  b64.resize(4 * ((file.size() + 2) / 3) + 1);
  const int b64_len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                      reinterpret_cast<const unsigned char*>(file.data()),
                                      static_cast<int>(file.size()));
  b64.resize(static_cast<std::size_t>(b64_len));

  SecretString pem;
  pem.reserve(kBeginMarker.size() + kEndMarker.size() + b64.size() + b64.size() / kLineLength + 4);
  pem.append(kBeginMarker.data(), kBeginMarker.size());
  pem.push_back('\n');
  for (std::size_t pos = 0; pos < b64.size(); pos += kLineLength) {
    pem.append(b64, pos, kLineLength);
    pem.push_back('\n');
  }
  pem.append(kEndMarker.data(), kEndMarker.size());
  pem.push_back('\n');
  return pem;
}

Result<Ed25519PrivateKey> DecodeOpenSshPrivateKey(std::string_view pem) {
  if (pem.size() > kMaxFileSize) {
    return Err(InvalidArgument("OpenSSH private key file is too large"));
  }
  // Whitespace around the armor is tolerated (editors add newlines); inside
  // it only line breaks are, and the base64 itself is decoded strictly.
  while (!pem.empty() && std::strchr(" \t\r\n", pem.front()) != nullptr) pem.remove_prefix(1);
  while (!pem.empty() && std::strchr(" \t\r\n", pem.back()) != nullptr) pem.remove_suffix(1);
  if (pem.substr(0, kBeginMarker.size()) != kBeginMarker ||
      pem.size() < kBeginMarker.size() + kEndMarker.size() ||
      pem.substr(pem.size() - kEndMarker.size()) != kEndMarker) {
    return Err(InvalidArgument("not an OpenSSH private key (missing BEGIN/END lines)"));
  }
  const std::string_view body =
      pem.substr(kBeginMarker.size(), pem.size() - kBeginMarker.size() - kEndMarker.size());
  SecretString b64;
  b64.reserve(body.size());
  for (char c : body) {
    if (c != '\n' && c != '\r') b64.push_back(c);
  }
  auto decoded = Base64Decode(b64.view());
  if (!decoded) return Err(decoded.error().WithContext("OpenSSH private key"));
  WipeOnExit wipe(*decoded);

  const std::string_view file = *decoded;
  if (file.substr(0, kAuthMagic.size()) != kAuthMagic) {
    return Err(InvalidArgument("OpenSSH private key: bad magic"));
  }
  Reader r(file.substr(kAuthMagic.size()));
  auto cipher = r.GetString(256);
  if (!cipher) return Err(cipher.error().WithContext("OpenSSH private key"));
  auto kdf = r.GetString(256);
  if (!kdf) return Err(kdf.error().WithContext("OpenSSH private key"));
  auto kdf_options = r.GetString(1024);
  if (!kdf_options) return Err(kdf_options.error().WithContext("OpenSSH private key"));
  if (*cipher != kCipherNone || *kdf != kKdfNone || !kdf_options->empty()) {
    return Err(InvalidArgument("OpenSSH private key is encrypted (cipher \"" +
                               std::string(*cipher) +
                               "\"); remove the passphrase with ssh-keygen -p"));
  }
  auto nkeys = r.GetU32();
  if (!nkeys) return Err(nkeys.error().WithContext("OpenSSH private key"));
  if (*nkeys != 1) {
    return Err(InvalidArgument("OpenSSH private key holds " + std::to_string(*nkeys) +
                               " keys; exactly one is supported"));
  }
  auto pub_blob = r.GetString();
  if (!pub_blob) return Err(pub_blob.error().WithContext("OpenSSH private key"));
  auto pub = Ed25519PublicKey::FromBlob(*pub_blob);
  if (!pub) return Err(pub.error().WithContext("OpenSSH private key"));
  auto section = r.GetString();
  if (!section) return Err(section.error().WithContext("OpenSSH private key"));
  if (Status s = r.ExpectEnd(); !s.ok()) {
    return Err(s.WithContext("OpenSSH private key"));
  }

  SecretBytes seed;
  if (Status s = ParsePrivateSection(*section, *pub, seed); !s.ok()) {
    return Err(s.WithContext("OpenSSH private key"));
  }
  auto key = Ed25519PrivateKey::FromSeed(
      std::string_view(reinterpret_cast<const char*>(seed.data()), seed.size()));
  if (!key) return Err(key.error());
  // The file stores the public key beside the seed; a key whose seed does not
  // derive that public key would sign under a different identity than shown.
  if (key->public_key() != *pub) {
    return Err(InvalidArgument("OpenSSH private key: seed does not match the public key"));
  }
  return key;
}

}  // namespace gate::ssh
