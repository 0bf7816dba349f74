// OpenSSH certificates: the blob gate-principals and pam_gate.so get from
// sshd (a client's certificate), and the authorized-keys-style line form.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gate/certificate.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)gate::ssh::ParseCertificate(bytes);
  (void)gate::ssh::ParseCertificateVerifiedBySshd(bytes);
  (void)gate::ssh::ParseCertificateLineVerifiedBySshd(bytes);
  return 0;
}
