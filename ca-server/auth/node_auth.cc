#include "ca-server/auth/node_auth.h"

#include <algorithm>
#include <cstdint>

#include "gate/bytes.h"

namespace gate::ca {
namespace {

constexpr std::string_view kScheme = "bearer ";

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

Status InvalidCredentials() { return Unauthenticated("invalid node credentials"); }

}  // namespace

Result<std::string> NewHostUuid() {
  auto bytes = RandomBytes(16);
  if (!bytes) return Err(bytes.error());
  std::string b = *std::move(bytes);
  b[6] = static_cast<char>((static_cast<std::uint8_t>(b[6]) & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<char>((static_cast<std::uint8_t>(b[8]) & 0x3f) | 0x80);  // RFC 4122 variant
  const std::string hex = HexEncode(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

Result<SecretString> NewNodeSecret() {
  auto bytes = RandomBytes(kNodeSecretBytes);
  if (!bytes) return Err(bytes.error());
  SecretString secret(HexEncode(*bytes));
  std::fill(bytes->begin(), bytes->end(), '\0');
  return secret;
}

std::string HashNodeSecret(std::string_view secret) { return HexEncode(Sha256(secret)); }

bool LooksLikeHostUuid(std::string_view id) {
  if (id.size() != kHostUuidChars) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? id[i] != '-' : !IsLowerHex(id[i])) return false;
  }
  return true;
}

Result<NodeCredentials> ParseNodeAuthorization(std::string_view header) {
  if (header.empty()) {
    return Err(Unauthenticated("node credentials required (Authorization: Bearer ...)"));
  }
  const Status malformed = Unauthenticated("malformed node credentials");
  if (!StartsWithNoCase(header, kScheme)) return Err(malformed);
  std::string_view value = header.substr(kScheme.size());
  if (value.size() != kHostUuidChars + 1 + kNodeSecretHexChars || value[kHostUuidChars] != '.') {
    return Err(malformed);
  }
  const std::string_view uuid = value.substr(0, kHostUuidChars);
  const std::string_view secret = value.substr(kHostUuidChars + 1);
  if (!LooksLikeHostUuid(uuid) || !std::all_of(secret.begin(), secret.end(), IsLowerHex)) {
    return Err(malformed);
  }
  return NodeCredentials{std::string(uuid), SecretString(secret)};
}

Result<NodeRecord> AuthenticateNode(NodeStore& store, std::string_view authorization) {
  auto credentials = ParseNodeAuthorization(authorization);
  if (!credentials) return Err(credentials.error());
  auto node = store.GetNode(credentials->host_uuid);
  if (!node) {
    if (node.error().code() == Code::kNotFound) return Err(InvalidCredentials());
    return Err(node.error());
  }
  if (!ConstantTimeEquals(HashNodeSecret(credentials->secret.view()), node->secret_hash)) {
    return Err(InvalidCredentials());
  }
  return node;
}

}  // namespace gate::ca
