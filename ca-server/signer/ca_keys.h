// The cluster's certificate authorities. This folder is the only code that
// loads CA private keys, and only the signer process runs it; everything
// else asks that process by intent (issuer/certificate_authority.h).
//
// CaKeys is the seam for other key stores: SignerService uses only the
// ssh::Signer interface, so a key held in a PKCS#11 token is another
// ssh::Signer and another loader beside LoadOrCreateCaKeys, with no change
// to the signer's decisions or to the front end.
#ifndef GATE_CA_SIGNER_CA_KEYS_H_
#define GATE_CA_SIGNER_CA_KEYS_H_

#include <memory>
#include <string>

#include "gate/certificate.h"
#include "gate/status.h"

namespace gate::ca {

struct CaKeys {
  std::unique_ptr<ssh::Signer> user;  // signs user certificates
  std::unique_ptr<ssh::Signer> host;  // signs host certificates
};

// Loads <ca_dir>/user_ca and <ca_dir>/host_ca (OpenSSH private key format,
// readable by ssh-keygen), creating fresh Ed25519 keys (mode 0600, with .pub
// beside them) on first start. Refuses, with PermissionDenied naming the file
// and the fix, a key that is a symlink, owned by another user, or accessible
// by group/others; refuses a corrupt key with DataLoss.
Result<CaKeys> LoadOrCreateCaKeys(const std::string& ca_dir);

// Before any key is loaded: puts OpenSSL's private-key allocations on its
// secure heap (CRYPTO_secure_malloc_init), which is locked in memory
// (mlock, never swapped) and left out of core dumps (MADV_DONTDUMP).
// Internal if the heap cannot be set up; a heap that could not be locked is
// logged and accepted (RLIMIT_MEMLOCK), since the dump exclusion still holds.
Status ProtectKeyMemory();

}  // namespace gate::ca

#endif  // GATE_CA_SIGNER_CA_KEYS_H_
