// Node credentials: after a join, a node authenticates every request with
//   Authorization: Bearer <host_uuid>.<node secret>
// (docs/node-protocol.md). The secret is 256 random bits shown to the node
// once; gate-ca keeps only its SHA-256 (NodeRecord::secret_hash) and compares
// hashes in constant time.
//
// Thread safety: all functions are safe to call concurrently.
#ifndef GATE_CA_AUTH_NODE_AUTH_H_
#define GATE_CA_AUTH_NODE_AUTH_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "ca-server/store/node_store.h"
#include "gate/secret.h"
#include "gate/status.h"

namespace gate::ca {

inline constexpr std::size_t kNodeSecretBytes = 32;
inline constexpr std::size_t kNodeSecretHexChars = 2 * kNodeSecretBytes;
inline constexpr std::size_t kHostUuidChars = 36;

// A random (version 4) UUID, lower-case: a new node's identity. Internal if
// the RNG fails.
Result<std::string> NewHostUuid();

// kNodeSecretBytes from the CSPRNG as kNodeSecretHexChars lower-case hex.
Result<SecretString> NewNodeSecret();

// Lower-case hex SHA-256 of secret: the form the store keeps.
std::string HashNodeSecret(std::string_view secret);

// True iff id is 36 characters in the 8-4-4-4-12 shape of lower-case hex
// that NewHostUuid produces.
bool LooksLikeHostUuid(std::string_view id);

struct NodeCredentials {
  std::string host_uuid;
  SecretString secret;
};

// Parses an Authorization header value: the scheme "Bearer" (any case), one
// space, a host UUID (LooksLikeHostUuid), '.', and kNodeSecretHexChars
// lower-case hex. Unauthenticated for an empty header ("node credentials
// required") and for anything else ("malformed node credentials"); the
// message never echoes the header.
Result<NodeCredentials> ParseNodeAuthorization(std::string_view header);

// The node an Authorization header proves to be. Unauthenticated "invalid
// node credentials" for an unknown node and a wrong secret alike (the node
// may have left or been removed); parse errors as above; store errors
// other than NotFound as they are.
Result<NodeRecord> AuthenticateNode(NodeStore& store, std::string_view authorization);

}  // namespace gate::ca

#endif  // GATE_CA_AUTH_NODE_AUTH_H_
