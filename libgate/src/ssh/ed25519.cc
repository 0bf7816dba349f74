#include "gate/ed25519.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <mutex>
#include <utility>
#include <vector>

#include "gate/bytes.h"
#include "gate/cptr.h"
#include "gate/ssh_wire.h"

namespace gate::ssh {
namespace {

using EvpPkey = CPtr<EVP_PKEY, EVP_PKEY_free>;
using EvpPkeyCtx = CPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using EvpMdCtx = CPtr<EVP_MD_CTX, EVP_MD_CTX_free>;

constexpr std::size_t kRawKeySize = 32;
constexpr std::size_t kSignatureSize = 64;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Splits off the next whitespace-delimited field of s and skips the
// whitespace after it.
std::string_view NextField(std::string_view& s) {
  std::size_t end = 0;
  while (end < s.size() && !IsSpace(s[end])) ++end;
  std::string_view field = s.substr(0, end);
  s.remove_prefix(end);
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  return field;
}

Result<std::string> RawPublicKey(const EVP_PKEY* pkey) {
  std::string raw(kRawKeySize, '\0');
  std::size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(raw.data()), &len) != 1 ||
      len != kRawKeySize) {
    return Err(Internal("ed25519: cannot extract the public key"));
  }
  return raw;
}

}  // namespace

// ---------------------------------------------------------------------------
// Ed25519PublicKey

Result<Ed25519PublicKey> Ed25519PublicKey::FromRaw(std::string_view raw) {
  if (raw.size() != kRawKeySize) {
    return Err(
        InvalidArgument("ed25519 public key must be 32 bytes, got " + std::to_string(raw.size())));
  }
  Ed25519PublicKey key;
  key.raw_.assign(raw);
  return key;
}

Result<Ed25519PublicKey> Ed25519PublicKey::FromBlob(std::string_view blob) {
  Reader r(blob);
  auto type = r.GetString(64);
  if (!type) return Err(type.error().WithContext("ed25519 public key blob"));
  if (*type != kEd25519KeyType) {
    return Err(InvalidArgument("unsupported key type \"" + std::string(*type) +
                               "\" (only ssh-ed25519 is supported)"));
  }
  auto pk = r.GetString(kRawKeySize);
  if (!pk) return Err(pk.error().WithContext("ed25519 public key blob"));
  if (Status s = r.ExpectEnd(); !s.ok()) {
    return Err(s.WithContext("ed25519 public key blob"));
  }
  return FromRaw(*pk);
}

Result<Ed25519PublicKey> Ed25519PublicKey::FromAuthorizedKey(std::string_view line) {
  std::string_view rest = Trim(line);
  const std::string_view type = NextField(rest);
  if (type != kEd25519KeyType) {
    return Err(InvalidArgument("unsupported key type \"" + std::string(type) +
                               "\" (only ssh-ed25519 is supported)"));
  }
  const std::string_view b64 = NextField(rest);
  auto blob = Base64Decode(b64);
  if (!blob) return Err(blob.error().WithContext("ssh-ed25519 public key"));
  return FromBlob(*blob);
}

std::string Ed25519PublicKey::Blob() const {
  Writer w;
  w.PutString(kEd25519KeyType);
  w.PutString(raw_);
  return w.Take();
}

std::string Ed25519PublicKey::AuthorizedKey(std::string_view comment) const {
  std::string line(kEd25519KeyType);
  line += ' ';
  line += Base64Encode(Blob());
  if (!comment.empty()) {
    line += ' ';
    line += comment;
  }
  return line;
}

std::string Ed25519PublicKey::Fingerprint() const {
  std::string b64 = Base64Encode(Sha256(Blob()));
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return "SHA256:" + b64;
}

bool Ed25519PublicKey::Verify(std::string_view message, std::string_view signature) const {
  if (raw_.size() != kRawKeySize || signature.size() != kSignatureSize) return false;
  EvpPkey pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, Bytes(raw_), raw_.size()));
  EvpMdCtx ctx(EVP_MD_CTX_new());
  const bool ok = pkey && ctx &&
                  EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) == 1 &&
                  EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(message),
                                   message.size()) == 1;
  // A bad signature is an expected outcome here (hostile input), not an
  // error to report later: leaving it on the thread's OpenSSL error queue
  // would make unrelated TLS code on this thread see a stale failure.
  if (!ok) ERR_clear_error();
  return ok;
}

// ---------------------------------------------------------------------------
// Ed25519PrivateKey

struct Ed25519PrivateKey::Impl {
  // OpenSSL keeps the private half in its secure heap where available and
  // wipes it in EVP_PKEY_free, so the seed is never held here in the clear.
  EvpPkey pkey;

  // Signing contexts already initialised with pkey, ready for reuse.
  // EVP_DigestSignInit costs ~2 us (provider fetch, key export), about 7% of
  // a whole certificate issuance in bench/cert_issuance.cc; a mutex-guarded
  // free list removes it while keeping Sign safe to call from many threads.
  // The contexts reference pkey and die with it: nothing outlives the key.
  std::mutex mu;
  std::vector<EvpMdCtx> idle;  // guarded by mu

  // Enough for every CA worker thread to keep one; extra ones are freed.
  static constexpr std::size_t kMaxIdle = 32;

  EvpMdCtx NewContext() const {
    EvpMdCtx ctx(EVP_MD_CTX_new());
    if (ctx && EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) {
      ctx.reset();
    }
    return ctx;
  }

  // A pooled context if there is one (reused = true), else a new one.
  EvpMdCtx TakeContext(bool& reused) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!idle.empty()) {
        EvpMdCtx ctx = std::move(idle.back());
        idle.pop_back();
        reused = true;
        return ctx;
      }
    }
    reused = false;
    return NewContext();
  }

  void ReturnContext(EvpMdCtx ctx) {
    std::lock_guard<std::mutex> lock(mu);
    if (idle.size() < kMaxIdle) idle.push_back(std::move(ctx));
  }
};

Ed25519PrivateKey::Ed25519PrivateKey(std::unique_ptr<Impl> impl, Ed25519PublicKey pub)
    : impl_(std::move(impl)), public_key_(std::move(pub)) {}
Ed25519PrivateKey::Ed25519PrivateKey(Ed25519PrivateKey&&) noexcept = default;
Ed25519PrivateKey& Ed25519PrivateKey::operator=(Ed25519PrivateKey&&) noexcept = default;
Ed25519PrivateKey::~Ed25519PrivateKey() = default;

Result<Ed25519PrivateKey> Ed25519PrivateKey::Generate() {
  EvpPkeyCtx ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
  EVP_PKEY* raw_pkey = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw_pkey) != 1) {
    return Err(Internal("ed25519: key generation failed"));
  }
  auto impl = std::make_unique<Impl>();
  impl->pkey.reset(raw_pkey);
  auto raw = RawPublicKey(impl->pkey.get());
  if (!raw) return Err(raw.error());
  auto pub = Ed25519PublicKey::FromRaw(*raw);
  if (!pub) return Err(pub.error());
  return Ed25519PrivateKey(std::move(impl), std::move(*pub));
}

Result<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(std::string_view seed) {
  if (seed.size() != kRawKeySize) {
    return Err(InvalidArgument("ed25519 seed must be 32 bytes"));
  }
  auto impl = std::make_unique<Impl>();
  impl->pkey.reset(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, Bytes(seed), seed.size()));
  if (!impl->pkey) return Err(Internal("ed25519: cannot load private key"));
  auto raw = RawPublicKey(impl->pkey.get());
  if (!raw) return Err(raw.error());
  auto pub = Ed25519PublicKey::FromRaw(*raw);
  if (!pub) return Err(pub.error());
  return Ed25519PrivateKey(std::move(impl), std::move(*pub));
}

SecretBytes Ed25519PrivateKey::Seed() const {
  SecretBytes seed(kRawKeySize);
  std::size_t len = seed.size();
  if (!impl_ || EVP_PKEY_get_raw_private_key(impl_->pkey.get(), seed.data(), &len) != 1 ||
      len != kRawKeySize) {
    // Only reachable on a moved-from key or an OpenSSL failure; an empty
    // result cannot be mistaken for a key by any caller that checks size.
    return SecretBytes();
  }
  return seed;
}

Result<std::string> Ed25519PrivateKey::Sign(std::string_view message) const {
  if (!impl_) return Err(Internal("ed25519: signing with a moved-from key"));
  bool reused = false;
  EvpMdCtx ctx = impl_->TakeContext(reused);
  if (!ctx) return Err(Internal("ed25519: cannot initialise signing"));
  std::string sig(kSignatureSize, '\0');
  auto sign_once = [&](EVP_MD_CTX* c) {
    std::size_t sig_len = sig.size();
    return EVP_DigestSign(c, reinterpret_cast<unsigned char*>(sig.data()), &sig_len, Bytes(message),
                          message.size()) == 1 &&
           sig_len == kSignatureSize;
  };
  if (!sign_once(ctx.get())) {
    // OpenSSL 3.0 allows repeated one-shot EVP_DigestSign on one context
    // (`openssl speed` relies on it); should a later version refuse a reused
    // context, fall back to a fresh one rather than fail.
    if (!reused) return Err(Internal("ed25519: signing failed"));
    ERR_clear_error();
    ctx = impl_->NewContext();
    if (!ctx || !sign_once(ctx.get())) return Err(Internal("ed25519: signing failed"));
  }
  impl_->ReturnContext(std::move(ctx));
  return sig;
}

}  // namespace gate::ssh
