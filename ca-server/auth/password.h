// Password hashing and policy for gate-ca accounts.
//
// Hashes are argon2id (RFC 9106) in the PHC encoded form that libargon2
// writes, e.g. "$argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>". The encoded
// string carries its own parameters, so raising the costs below later still
// verifies old hashes.
//
// Thread safety: all functions are safe to call concurrently.
#ifndef GATE_CA_AUTH_PASSWORD_H_
#define GATE_CA_AUTH_PASSWORD_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "gate/status.h"

namespace gate::ca {

// argon2id parameters for new hashes. RFC 9106 section 4 recommends
// t=3, m=64 MiB, p=4 as the "second recommended option" for memory-constrained
// servers; we keep p=1 because each login runs on one request thread and
// parallel lanes would only let a single login occupy more cores. One hash
// takes roughly 100 ms on a 2020s x86 core and 64 MiB of RAM, which bounds
// concurrent logins by memory: callers must rate-limit before hashing.
inline constexpr std::uint32_t kArgon2TimeCost = 3;       // passes over memory
inline constexpr std::uint32_t kArgon2MemoryKiB = 65536;  // 64 MiB
inline constexpr std::uint32_t kArgon2Parallelism = 1;    // lanes / threads
inline constexpr std::uint32_t kArgon2SaltBytes = 16;     // from RAND_bytes
inline constexpr std::uint32_t kArgon2HashBytes = 32;     // 256-bit tag

// Longest password accepted, in bytes. Bounds the work an unauthenticated
// request can ask for and the size of what we keep in memory.
inline constexpr std::size_t kMaxPasswordBytes = 1024;

// Hashes password with a fresh random salt and the parameters above.
// Returns the encoded argon2id string. InvalidArgument if the password is
// longer than kMaxPasswordBytes; Internal if the RNG or libargon2 fails.
// Does not apply CheckPasswordPolicy: callers decide when policy applies.
Result<std::string> HashPassword(std::string_view password);

// True iff encoded is a well-formed argon2id string and password matches it.
// False on any error (malformed hash, other argon2 variant, out of memory),
// so callers cannot mistake an error for success. Costs one full hash.
bool VerifyPassword(std::string_view encoded, std::string_view password);

// Spends the same time as VerifyPassword on a real hash, against a fixed dummy
// hash, so that a login for an unknown user (or one who has not signed up)
// takes as long as one with a wrong password and does not reveal which names
// exist. The dummy is computed on first use, so the first call costs about
// twice as much; calling it once at startup hides that too.
void BurnPasswordVerification(std::string_view password);

// Checks a new password: at most kMaxPasswordBytes bytes, valid UTF-8, no
// control characters (C0, DEL, C1; which also rules out NUL), and at least
// min_length characters (Unicode code points). InvalidArgument with a message
// meant for the user, e.g. "password must be at least 12 characters".
Status CheckPasswordPolicy(std::string_view password, int min_length);

}  // namespace gate::ca

#endif  // GATE_CA_AUTH_PASSWORD_H_
