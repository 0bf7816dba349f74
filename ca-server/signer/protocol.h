// The signer protocol: what gate-ca's network front end and its signer
// process (the only one holding the CA private keys) say to each other over
// their socketpair. Specified in docs/signer-protocol.md.
//
// Intent, not bytes: the front end asks for "a user certificate for alice,
// this key, this lifetime" or "a host certificate for this node"; the signer
// re-derives the decision from its own view of the store before it signs.
// There is deliberately no message that signs caller-chosen bytes.
//
// A frame (one SOCK_SEQPACKET message) is a uint32 big-endian body length,
// then the body:
//   byte version (kSignerProtocolVersion), byte type, uint32 request id,
//   then the type's fields in the SSH wire encoding (RFC 4251).
// Every field has a cap; trailing bytes, unknown types, other versions and
// out-of-range values are errors. Pure functions: no I/O, fuzzed
// (tests/fuzz/fuzz_signer_protocol.cc).
#ifndef GATE_CA_SIGNER_PROTOCOL_H_
#define GATE_CA_SIGNER_PROTOCOL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gate/ed25519.h"
#include "gate/status.h"

namespace gate::ca {

inline constexpr std::uint8_t kSignerProtocolVersion = 1;
inline constexpr std::size_t kSignerFrameHeaderBytes = 4;
// Bodies are a few hundred bytes; a certificate with every cap reached stays
// far below this.
inline constexpr std::size_t kMaxSignerFrameBytes = 32 * 1024;
inline constexpr std::size_t kMaxSignerListEntries = 64;
inline constexpr std::size_t kMaxSignerNameBytes = 256;      // user, login, principal, host id
inline constexpr std::size_t kMaxSignerSourceBytes = 256;    // peer address for the audit log
inline constexpr std::size_t kMaxSignerMessageBytes = 1024;  // an error's message
inline constexpr std::size_t kMaxSignerCertificateBytes = 16 * 1024;

// Asks for the CA public keys (the first message on a connection).
struct HelloRequest {};
struct HelloReply {
  ssh::Ed25519PublicKey user_ca;
  ssh::Ed25519PublicKey host_ca;
};

// A user certificate. logins: the principals the front end expects (from
// its own grant); every one must be in the signer's grant, and the
// certificate carries exactly these (empty: everything granted).
struct SignUserRequest {
  std::string user;
  std::uint64_t ttl_seconds = 0;  // the exact lifetime, > 0
  ssh::Ed25519PublicKey public_key;
  std::vector<std::string> logins;
  std::string source;  // who asked (peer address), for the audit log
};
struct SignUserReply {
  std::string certificate;         // the signed certificate blob
  std::vector<std::string> roles;  // the grant's roles
};

// A host certificate for a registered node's registered host key.
struct SignHostRequest {
  std::string host_uuid;
  ssh::Ed25519PublicKey public_key;
  std::vector<std::string> principals;
  std::string source;
};
struct SignHostReply {
  std::string certificate;
};

// A refusal or failure: the Status the signer decided.
struct SignerErrorReply {
  Code code = Code::kInternal;  // never kOk
  std::string message;
};

using SignerPayload = std::variant<HelloRequest, HelloReply, SignUserRequest, SignUserReply,
                                   SignHostRequest, SignHostReply, SignerErrorReply>;

struct SignerMessage {
  std::uint32_t id = 0;  // a reply carries its request's id
  SignerPayload payload;
};

// The whole frame (header and body). InvalidArgument if a field breaks a
// cap (the encoder checks what the decoder would refuse).
Result<std::string> EncodeSignerFrame(const SignerMessage& message);

// The body length from the 4-byte header: InvalidArgument if it is zero or
// over kMaxSignerFrameBytes (so a reader never allocates more).
Result<std::size_t> DecodeSignerFrameLength(std::string_view header);

// Parses a body (without its header). InvalidArgument or DataLoss, naming
// the field, on anything that is not exactly one well-formed message.
Result<SignerMessage> DecodeSignerBody(std::string_view body);

// The Status an SignerErrorReply carries, and back.
Status ToStatus(const SignerErrorReply& reply);
SignerErrorReply ToErrorReply(const Status& status);

}  // namespace gate::ca

#endif  // GATE_CA_SIGNER_PROTOCOL_H_
