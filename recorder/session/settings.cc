#include "recorder/session/settings.h"

#include <sys/stat.h>

#include "gate/json.h"
#include "gate/secure_file.h"

namespace gate::recorder {

Result<ssh::Ed25519PrivateKey> LoadRecorderKey(const std::string& path) {
  FilePolicy policy;  // owned by our euid, not readable by group/others
  policy.secret = true;
  policy.max_size = 16 * 1024;
  auto pem = ReadSecureFile(path, policy);
  if (!pem) return Err(pem.error().WithContext("recorder key"));
  auto key = ssh::DecodeOpenSshPrivateKey(pem->view());
  if (!key) return Err(key.error().WithContext("recorder key " + path));
  return key;
}

}  // namespace gate::recorder
