#include "ca-server/signer/signer_server.h"

#include <type_traits>
#include <utility>
#include <variant>

#include "ca-server/signer/frame_io.h"
#include "gate/log.h"

namespace gate::ca {
namespace {

SignerPayload Answer(CertificateAuthority& ca, const HelloRequest&) {
  return HelloReply{ca.user_ca(), ca.host_ca()};
}

SignerPayload Answer(CertificateAuthority& ca, const SignUserRequest& m) {
  UserCertificateRequest req;
  req.user = m.user;
  // A lifetime that does not fit in seconds is refused as over the cap.
  req.ttl = std::chrono::seconds(
      static_cast<std::int64_t>(std::min<std::uint64_t>(m.ttl_seconds, 1ULL << 40)));
  req.public_key = m.public_key;
  req.logins = m.logins;
  req.source = m.source;
  auto issued = ca.SignUserCertificate(req);
  if (!issued) return ToErrorReply(issued.error());
  return SignUserReply{std::move(issued->certificate.blob), std::move(issued->roles)};
}

SignerPayload Answer(CertificateAuthority& ca, const SignHostRequest& m) {
  HostCertificateRequest req{m.host_uuid, m.public_key, m.principals, m.source};
  auto cert = ca.SignHostCertificate(req);
  if (!cert) return ToErrorReply(cert.error());
  return SignHostReply{std::move(cert->blob)};
}

template <typename T>
SignerPayload Answer(CertificateAuthority&, const T&) {
  return ToErrorReply(InvalidArgument("signer protocol: that message is not a request"));
}

}  // namespace

Result<bool> ServeSignerRequest(int fd, CertificateAuthority& ca) {
  auto request = ReadSignerFrame(fd);
  if (!request) {
    if (request.error().code() == Code::kNotFound) return false;
    if (request.error().code() != Code::kUnavailable) {
      (void)WriteSignerFrame(fd, {0, ToErrorReply(request.error())});
    }
    return Err(request.error());
  }
  const bool is_request = std::holds_alternative<HelloRequest>(request->payload) ||
                          std::holds_alternative<SignUserRequest>(request->payload) ||
                          std::holds_alternative<SignHostRequest>(request->payload);
  SignerPayload reply =
      std::visit([&ca](const auto& m) { return Answer(ca, m); }, request->payload);
  GATE_RETURN_IF_ERROR(WriteSignerFrame(fd, {request->id, std::move(reply)}));
  if (!is_request) return Err(InvalidArgument("signer protocol: a reply was sent as a request"));
  return true;
}

Status ServeSignerConnection(int fd, CertificateAuthority& ca) {
  for (;;) {
    auto served = ServeSignerRequest(fd, ca);
    if (!served) return served.error();
    if (!*served) return Status::Ok();
  }
}

}  // namespace gate::ca
