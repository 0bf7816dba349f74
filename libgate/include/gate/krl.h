// OpenSSH Key Revocation Lists (PROTOCOL.krl): gate publishes revoked
// certificate serials as a KRL that nodes install as sshd's RevokedKeys.
// Pure functions over bytes.
#ifndef GATE_KRL_H_
#define GATE_KRL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gate/ed25519.h"
#include "gate/status.h"

namespace gate::ssh {

struct KrlCaSection {
  Ed25519PublicKey ca;                  // the CA whose certificates are revoked
  std::vector<std::uint64_t> serials;   // revoked serials (any order; encoded sorted, unique)
};

struct Krl {
  std::uint64_t version = 0;       // krl_version: increases with every change
  std::uint64_t generated_at = 0;  // unix seconds
  std::string comment;
  std::vector<KrlCaSection> sections;
};

// Encodes an unsigned KRL with one KRL_SECTION_CERTIFICATES per CA, serials
// as a KRL_SECTION_CERT_SERIAL_LIST. A KRL with no sections is valid (revokes
// nothing) and is what a node installs when nothing is revoked.
std::string EncodeKrl(const Krl& krl);

// Parses what EncodeKrl writes (and the certificate-serial subset of what
// ssh-keygen -k writes: serial lists, ranges and bitmaps). Any other section
// type, a signature section, or malformed data is an error, so a node never
// installs a file it did not understand.
Result<Krl> ParseKrl(std::string_view data);

// True if the KRL revokes (ca, serial).
bool KrlRevokes(const Krl& krl, const Ed25519PublicKey& ca, std::uint64_t serial);

}  // namespace gate::ssh

#endif  // GATE_KRL_H_
