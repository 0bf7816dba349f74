#include "ca-server/signer/protocol.h"

#include <type_traits>

#include "gate/ssh_wire.h"

namespace gate::ca {
namespace {

using ssh::Reader;
using ssh::Writer;

enum class Type : std::uint8_t {
  kHelloRequest = 1,
  kHelloReply = 2,
  kSignUserRequest = 3,
  kSignUserReply = 4,
  kSignHostRequest = 5,
  kSignHostReply = 6,
  kErrorReply = 7,
};

Status TooLong(std::string_view field, std::size_t cap) {
  return InvalidArgument("signer protocol: " + std::string(field) + " is over " +
                         std::to_string(cap) + " bytes");
}

Status PutString(Writer& w, std::string_view field, std::string_view s, std::size_t cap) {
  if (s.size() > cap) return TooLong(field, cap);
  w.PutString(s);
  return Status::Ok();
}

Status PutList(Writer& w, std::string_view field, const std::vector<std::string>& list) {
  if (list.size() > kMaxSignerListEntries) {
    return InvalidArgument("signer protocol: " + std::string(field) + " has over " +
                           std::to_string(kMaxSignerListEntries) + " entries");
  }
  w.PutU32(static_cast<std::uint32_t>(list.size()));
  for (const std::string& s : list)
    GATE_RETURN_IF_ERROR(PutString(w, field, s, kMaxSignerNameBytes));
  return Status::Ok();
}

void PutKey(Writer& w, const ssh::Ed25519PublicKey& key) { w.PutString(key.Blob()); }

Result<std::string> GetString(Reader& r, std::string_view field, std::size_t cap) {
  auto s = r.GetString(cap);
  if (!s) return Err(s.error().WithContext("signer protocol: " + std::string(field)));
  return std::string(*s);
}

Result<std::vector<std::string>> GetList(Reader& r, std::string_view field) {
  auto n = r.GetU32();
  if (!n) return Err(n.error().WithContext("signer protocol: " + std::string(field)));
  if (*n > kMaxSignerListEntries) {
    return Err(InvalidArgument("signer protocol: " + std::string(field) + " has over " +
                               std::to_string(kMaxSignerListEntries) + " entries"));
  }
  std::vector<std::string> list;
  list.reserve(*n);
  for (std::uint32_t i = 0; i < *n; ++i) {
    auto s = GetString(r, field, kMaxSignerNameBytes);
    if (!s) return Err(s.error());
    list.push_back(std::move(*s));
  }
  return list;
}

Result<ssh::Ed25519PublicKey> GetKey(Reader& r, std::string_view field) {
  auto blob = r.GetString(128);
  if (!blob) return Err(blob.error().WithContext("signer protocol: " + std::string(field)));
  auto key = ssh::Ed25519PublicKey::FromBlob(*blob);
  if (!key) return Err(key.error().WithContext("signer protocol: " + std::string(field)));
  return key;
}

Result<std::uint64_t> GetU64(Reader& r, std::string_view field) {
  auto v = r.GetU64();
  if (!v) return Err(v.error().WithContext("signer protocol: " + std::string(field)));
  return v;
}

// One Encode/Decode pair per payload type.
Status Encode(Writer&, const HelloRequest&) { return Status::Ok(); }
Status Encode(Writer& w, const HelloReply& m) {
  PutKey(w, m.user_ca);
  PutKey(w, m.host_ca);
  return Status::Ok();
}
Status Encode(Writer& w, const SignUserRequest& m) {
  GATE_RETURN_IF_ERROR(PutString(w, "user", m.user, kMaxSignerNameBytes));
  w.PutU64(m.ttl_seconds);
  PutKey(w, m.public_key);
  GATE_RETURN_IF_ERROR(PutList(w, "logins", m.logins));
  return PutString(w, "source", m.source, kMaxSignerSourceBytes);
}
Status Encode(Writer& w, const SignUserReply& m) {
  GATE_RETURN_IF_ERROR(PutString(w, "certificate", m.certificate, kMaxSignerCertificateBytes));
  return PutList(w, "roles", m.roles);
}
Status Encode(Writer& w, const SignHostRequest& m) {
  GATE_RETURN_IF_ERROR(PutString(w, "host id", m.host_uuid, kMaxSignerNameBytes));
  PutKey(w, m.public_key);
  GATE_RETURN_IF_ERROR(PutList(w, "principals", m.principals));
  return PutString(w, "source", m.source, kMaxSignerSourceBytes);
}
Status Encode(Writer& w, const SignHostReply& m) {
  return PutString(w, "certificate", m.certificate, kMaxSignerCertificateBytes);
}
Status Encode(Writer& w, const SignerErrorReply& m) {
  if (m.code == Code::kOk || m.code > Code::kInternal) {
    return InvalidArgument("signer protocol: an error reply needs an error code");
  }
  w.PutU32(static_cast<std::uint32_t>(m.code));
  return PutString(w, "message", m.message, kMaxSignerMessageBytes);
}

template <typename T>
constexpr Type TypeOf() {
  if constexpr (std::is_same_v<T, HelloRequest>) return Type::kHelloRequest;
  if constexpr (std::is_same_v<T, HelloReply>) return Type::kHelloReply;
  if constexpr (std::is_same_v<T, SignUserRequest>) return Type::kSignUserRequest;
  if constexpr (std::is_same_v<T, SignUserReply>) return Type::kSignUserReply;
  if constexpr (std::is_same_v<T, SignHostRequest>) return Type::kSignHostRequest;
  if constexpr (std::is_same_v<T, SignHostReply>) return Type::kSignHostReply;
  if constexpr (std::is_same_v<T, SignerErrorReply>) return Type::kErrorReply;
}

Result<SignerPayload> DecodePayload(Type type, Reader& r) {
  switch (type) {
    case Type::kHelloRequest:
      return SignerPayload(HelloRequest{});
    case Type::kHelloReply: {
      HelloReply m;
      auto user = GetKey(r, "user CA");
      if (!user) return Err(user.error());
      auto host = GetKey(r, "host CA");
      if (!host) return Err(host.error());
      m.user_ca = std::move(*user);
      m.host_ca = std::move(*host);
      return SignerPayload(std::move(m));
    }
    case Type::kSignUserRequest: {
      SignUserRequest m;
      auto user = GetString(r, "user", kMaxSignerNameBytes);
      if (!user) return Err(user.error());
      auto ttl = GetU64(r, "ttl");
      if (!ttl) return Err(ttl.error());
      auto key = GetKey(r, "public key");
      if (!key) return Err(key.error());
      auto logins = GetList(r, "logins");
      if (!logins) return Err(logins.error());
      auto source = GetString(r, "source", kMaxSignerSourceBytes);
      if (!source) return Err(source.error());
      m.user = std::move(*user);
      m.ttl_seconds = *ttl;
      m.public_key = std::move(*key);
      m.logins = std::move(*logins);
      m.source = std::move(*source);
      return SignerPayload(std::move(m));
    }
    case Type::kSignUserReply: {
      SignUserReply m;
      auto cert = GetString(r, "certificate", kMaxSignerCertificateBytes);
      if (!cert) return Err(cert.error());
      auto roles = GetList(r, "roles");
      if (!roles) return Err(roles.error());
      m.certificate = std::move(*cert);
      m.roles = std::move(*roles);
      return SignerPayload(std::move(m));
    }
    case Type::kSignHostRequest: {
      SignHostRequest m;
      auto id = GetString(r, "host id", kMaxSignerNameBytes);
      if (!id) return Err(id.error());
      auto key = GetKey(r, "public key");
      if (!key) return Err(key.error());
      auto principals = GetList(r, "principals");
      if (!principals) return Err(principals.error());
      auto source = GetString(r, "source", kMaxSignerSourceBytes);
      if (!source) return Err(source.error());
      m.host_uuid = std::move(*id);
      m.public_key = std::move(*key);
      m.principals = std::move(*principals);
      m.source = std::move(*source);
      return SignerPayload(std::move(m));
    }
    case Type::kSignHostReply: {
      SignHostReply m;
      auto cert = GetString(r, "certificate", kMaxSignerCertificateBytes);
      if (!cert) return Err(cert.error());
      m.certificate = std::move(*cert);
      return SignerPayload(std::move(m));
    }
    case Type::kErrorReply: {
      SignerErrorReply m;
      auto code = r.GetU32();
      if (!code) return Err(code.error().WithContext("signer protocol: error code"));
      if (*code == 0 || *code > static_cast<std::uint32_t>(Code::kInternal)) {
        return Err(InvalidArgument("signer protocol: unknown error code " + std::to_string(*code)));
      }
      auto message = GetString(r, "message", kMaxSignerMessageBytes);
      if (!message) return Err(message.error());
      m.code = static_cast<Code>(*code);
      m.message = std::move(*message);
      return SignerPayload(std::move(m));
    }
  }
  return Err(InvalidArgument("signer protocol: unknown message type " +
                             std::to_string(static_cast<unsigned>(type))));
}

}  // namespace

Result<std::string> EncodeSignerFrame(const SignerMessage& message) {
  Writer body;
  body.PutU8(kSignerProtocolVersion);
  body.PutU8(static_cast<std::uint8_t>(std::visit(
      [](const auto& m) { return TypeOf<std::decay_t<decltype(m)>>(); }, message.payload)));
  body.PutU32(message.id);
  GATE_RETURN_IF_ERROR(
      std::visit([&body](const auto& m) { return Encode(body, m); }, message.payload));
  if (body.data().size() > kMaxSignerFrameBytes) {
    return Err(TooLong("a frame", kMaxSignerFrameBytes));
  }
  Writer frame;
  frame.PutU32(static_cast<std::uint32_t>(body.data().size()));
  frame.PutRaw(body.data());
  return frame.Take();
}

Result<std::size_t> DecodeSignerFrameLength(std::string_view header) {
  if (header.size() != kSignerFrameHeaderBytes) {
    return Err(InvalidArgument("signer protocol: a frame header is 4 bytes"));
  }
  Reader r(header);
  auto n = r.GetU32();
  if (!n) return Err(n.error());
  if (*n == 0 || *n > kMaxSignerFrameBytes) {
    return Err(InvalidArgument("signer protocol: frame length " + std::to_string(*n) +
                               " is not 1 to " + std::to_string(kMaxSignerFrameBytes)));
  }
  return static_cast<std::size_t>(*n);
}

Result<SignerMessage> DecodeSignerBody(std::string_view body) {
  if (body.size() > kMaxSignerFrameBytes) return Err(TooLong("a frame", kMaxSignerFrameBytes));
  Reader r(body);
  auto version = r.GetU8();
  if (!version) return Err(version.error().WithContext("signer protocol: version"));
  if (*version != kSignerProtocolVersion) {
    return Err(InvalidArgument("signer protocol: version " + std::to_string(*version) +
                               " (this build speaks " + std::to_string(kSignerProtocolVersion) +
                               ")"));
  }
  auto type = r.GetU8();
  if (!type) return Err(type.error().WithContext("signer protocol: type"));
  auto id = r.GetU32();
  if (!id) return Err(id.error().WithContext("signer protocol: request id"));
  auto payload = DecodePayload(static_cast<Type>(*type), r);
  if (!payload) return Err(payload.error());
  GATE_RETURN_IF_ERROR(r.ExpectEnd().WithContext("signer protocol"));
  return SignerMessage{*id, std::move(*payload)};
}

Status ToStatus(const SignerErrorReply& reply) { return Status(reply.code, reply.message); }

SignerErrorReply ToErrorReply(const Status& status) {
  SignerErrorReply reply;
  reply.code = status.ok() ? Code::kInternal : status.code();
  std::string message = status.message();
  if (message.size() > kMaxSignerMessageBytes) message.resize(kMaxSignerMessageBytes);
  reply.message = std::move(message);
  return reply;
}

}  // namespace gate::ca
