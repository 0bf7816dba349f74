#include "ca-server/signer/ca_keys.h"

#include <openssl/crypto.h>
#include <sys/stat.h>

#include "gate/ed25519.h"
#include "gate/log.h"
#include "gate/secure_file.h"

namespace gate::ca {
namespace {

Result<std::unique_ptr<ssh::Signer>> LoadOrCreate(const std::string& ca_dir,
                                                  const std::string& name) {
  const std::string path = ca_dir + "/" + name;
  FilePolicy policy;  // secret, owned by us
  auto text = ReadSecureFile(path, policy);
  if (!text && text.error().code() != Code::kNotFound) return Err(text.error());

  if (!text) {
    auto key = ssh::Ed25519PrivateKey::Generate();
    if (!key) return Err(key.error());
    const std::string comment = "gate " + name;
    GATE_RETURN_IF_ERROR(
        WriteFileAtomic(path, EncodeOpenSshPrivateKey(*key, comment).view(), 0600));
    GATE_RETURN_IF_ERROR(
        WriteFileAtomic(path + ".pub", key->public_key().AuthorizedKey(comment) + "\n", 0644));
    log::Info("created " + name + " " + key->public_key().Fingerprint() + " in " + path);
    return std::make_unique<ssh::LocalSigner>(std::move(*key));
  }

  auto key = ssh::DecodeOpenSshPrivateKey(text->view());
  if (!key) return Err(DataLoss(path + ": cannot read CA key: " + key.error().message()));
  return std::make_unique<ssh::LocalSigner>(std::move(*key));
}

}  // namespace

Status ProtectKeyMemory() {
  // Two Ed25519 keys need a few hundred bytes; OpenSSL's own allocations
  // for them round up to the minimum block.
  constexpr std::size_t kHeapBytes = 64 * 1024;
  constexpr int kMinBlock = 32;
  if (CRYPTO_secure_malloc_initialized()) return Status::Ok();
  const int rc = CRYPTO_secure_malloc_init(kHeapBytes, kMinBlock);
  if (rc == 0) return Internal("cannot set up OpenSSL's secure heap for the CA keys");
  if (rc == 2) {
    log::Warning(
        "the CA keys' secure heap is not fully protected (mlock or MADV_DONTDUMP "
        "failed; RLIMIT_MEMLOCK?)");
  }
  return Status::Ok();
}

Result<CaKeys> LoadOrCreateCaKeys(const std::string& ca_dir) {
  GATE_RETURN_IF_ERROR(EnsurePrivateDir(ca_dir, 0700));
  CaKeys keys;
  auto user = LoadOrCreate(ca_dir, "user_ca");
  if (!user) return Err(user.error());
  auto host = LoadOrCreate(ca_dir, "host_ca");
  if (!host) return Err(host.error());
  keys.user = std::move(*user);
  keys.host = std::move(*host);
  return keys;
}

}  // namespace gate::ca
