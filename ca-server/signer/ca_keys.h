// The cluster's certificate authorities. This folder is the only code that
// loads CA private keys; everything else signs through gate::ssh::Signer.
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

}  // namespace gate::ca

#endif  // GATE_CA_SIGNER_CA_KEYS_H_
