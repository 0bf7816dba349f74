// OpenSSH Key Revocation Lists (PROTOCOL.krl): gate publishes revoked
// certificate serials as a KRL that nodes install as sshd's RevokedKeys.
// Pure functions over bytes.
#ifndef GATE_KRL_H_
#define GATE_KRL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gate/ed25519.h"
#include "gate/status.h"

namespace gate::ssh {

// Upper bounds ParseKrl enforces, so a hostile file costs bounded memory:
// the whole input, and serials plus ranges over all sections (a bitmap
// expands to one serial per set bit).
inline constexpr std::size_t kMaxKrlSize = 16 * 1024 * 1024;
inline constexpr std::size_t kMaxKrlEntries = 1024 * 1024;

// Serials min..max inclusive (KRL_SECTION_CERT_SERIAL_RANGE).
struct KrlSerialRange {
  std::uint64_t min = 0;
  std::uint64_t max = 0;
  bool operator==(const KrlSerialRange&) const = default;
};

// Serial 0 cannot be revoked by serial: OpenSSH refuses a KRL that tries
// (it revokes serial-0 certificates by key id only), so EncodeKrl leaves 0
// out, clamps a range starting at 0 to start at 1, drops a range with
// min > max, and KrlRevokes never reports serial 0.
struct KrlCaSection {
  Ed25519PublicKey ca;                 // the CA whose certificates are revoked
  std::vector<std::uint64_t> serials;  // revoked serials (any order; encoded sorted, unique)
  std::vector<KrlSerialRange> ranges;  // revoked ranges (encoded in the order given)
};

struct Krl {
  std::uint64_t version = 0;       // krl_version: increases with every change
  std::uint64_t generated_at = 0;  // unix seconds
  std::string comment;
  std::vector<KrlCaSection> sections;
};

// Encodes an unsigned KRL with one KRL_SECTION_CERTIFICATES per CA, serials
// as a KRL_SECTION_CERT_SERIAL_LIST and each range as a
// KRL_SECTION_CERT_SERIAL_RANGE; a CA with nothing to revoke, or an unset
// (default-constructed) CA key, gets no section.
// A KRL with no sections is valid (revokes nothing) and is what a node
// installs when nothing is revoked. NUL bytes in the comment are dropped
// (OpenSSH reads it as a C string and refuses one containing NUL).
std::string EncodeKrl(const Krl& krl);

// Parses what EncodeKrl writes (and the certificate-serial subset of what
// ssh-keygen -k writes: serial lists, ranges and bitmaps). Any other section
// type, a signature section, or malformed data is an error, so a node never
// installs a file it did not understand. So are the things OpenSSH itself
// refuses (serial 0, a range with min > max, a bitmap that wraps, a comment
// with NUL), non-zero flags, a CA that is not Ed25519 or is empty ("any
// CA"), and inputs beyond kMaxKrlSize / kMaxKrlEntries. Each certificates
// section becomes one KrlCaSection whose serials (from lists and bitmaps)
// are sorted and unique and whose ranges are in file order.
//
// The format has no length or checksum: a file cut exactly at a section
// boundary is itself a valid KRL with fewer sections. Integrity comes from
// how the file travels (HTTPS, atomic rename), not from this parser.
Result<Krl> ParseKrl(std::string_view data);

// True if the KRL revokes (ca, serial).
bool KrlRevokes(const Krl& krl, const Ed25519PublicKey& ca, std::uint64_t serial);

}  // namespace gate::ssh

#endif  // GATE_KRL_H_
