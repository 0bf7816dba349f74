#include "ca-server/signer/signer_client.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <utility>

#include "ca-server/signer/frame_io.h"
#include "gate/log.h"

namespace gate::ca {

Result<std::unique_ptr<SignerClient>> SignerClient::Connect(UniqueFd fd,
                                                            std::chrono::seconds timeout,
                                                            std::function<void()> on_lost) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count());
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
      ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) {
    return Err(Unavailable("signer unavailable: cannot set the socket timeout"));
  }
  std::unique_ptr<SignerClient> client(new SignerClient(std::move(fd), std::move(on_lost)));
  auto reply = client->Call(HelloRequest{});
  if (!reply) return Err(reply.error());
  auto* hello = std::get_if<HelloReply>(&*reply);
  if (hello == nullptr) {
    std::lock_guard<std::mutex> lock(client->mu_);
    return Err(client->Lost(Internal("the signer answered hello with another message")));
  }
  client->user_ca_ = hello->user_ca;
  client->host_ca_ = hello->host_ca;
  return client;
}

Status SignerClient::Lost(const Status& why) {
  if (!lost_) {
    lost_ = true;
    lost_reason_ = why.message();
    log::Error("signer unavailable: " + why.message() + "; no certificate can be issued");
    // Not closed: another caller may be in send or recv on it, and a closed
    // number could be reused by an unrelated file meanwhile. Shut down, the
    // signer sees the end of the stream all the same.
    ::shutdown(fd_.get(), SHUT_RDWR);
    for (auto& [id, waiter] : waiting_) waiter->ready.notify_one();
    if (on_lost_) on_lost_();
  }
  return Unavailable("signer unavailable: " + why.message());
}

void SignerClient::HandOverReading() {
  for (auto& [id, waiter] : waiting_) {
    if (!waiter->reply) {
      waiter->ready.notify_one();
      return;
    }
  }
}

void SignerClient::ReadOneReply(std::unique_lock<std::mutex>& lock) {
  lock.unlock();
  auto reply = ReadSignerFrame(fd_.get());
  lock.lock();
  reading_ = false;
  if (lost_) return;
  if (!reply) {
    (void)Lost(reply.error());
    return;
  }
  auto it = waiting_.find(reply->id);
  if (it == waiting_.end() || it->second->reply) {
    (void)Lost(Internal("reply " + std::to_string(reply->id) + " to no request in flight"));
    return;
  }
  it->second->reply = std::move(reply->payload);
  it->second->ready.notify_one();
}

Result<SignerPayload> SignerClient::Call(SignerPayload request) {
  std::unique_lock<std::mutex> lock(mu_);
  if (lost_) return Err(Unavailable("signer unavailable: the connection was lost earlier"));
  const std::uint32_t id = next_id_++;
  if (next_id_ == 0) next_id_ = 1;  // 0 is the id of a reply to a frame the signer could not read
  Waiter me;
  waiting_.emplace(id, &me);
  // Sent outside the lock: each send is one whole message (SOCK_SEQPACKET),
  // and replies are matched by id, whatever order the requests left in.
  lock.unlock();
  const Status sent = WriteSignerFrame(fd_.get(), {id, std::move(request)});
  lock.lock();
  if (!sent.ok()) {
    waiting_.erase(id);
    // A request the encoder refuses never reached the signer: the caller's
    // input was bad, the connection is fine.
    if (sent.code() == Code::kInvalidArgument) return Err(sent);
    return Err(Lost(sent));
  }
  // One caller at a time reads (a leader); the others sleep until their
  // reply is handed to them, or until the leader leaves and wakes one of
  // them to read in its place.
  while (!me.reply && !lost_) {
    if (!reading_) {
      reading_ = true;
      ReadOneReply(lock);
    } else {
      me.ready.wait(lock);
    }
  }
  waiting_.erase(id);
  if (!reading_ && !lost_) HandOverReading();
  if (!me.reply) return Err(Unavailable("signer unavailable: " + lost_reason_));
  if (auto* error = std::get_if<SignerErrorReply>(&*me.reply)) return Err(ToStatus(*error));
  return std::move(*me.reply);
}

Result<ssh::Certificate> SignerClient::CheckIssued(const std::string* blob, ssh::CertType type,
                                                   const std::string& key_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (blob == nullptr) return Err(Lost(Internal("the signer answered out of step")));
  // The signer made this certificate a moment ago; checking its signature
  // here would cost more than making it did (docs/benchmarks.md).
  auto cert = ssh::ParseCertificateFromOwnSigner(*blob);
  const auto& ca = type == ssh::CertType::kUser ? user_ca_ : host_ca_;
  if (!cert || cert->spec.type != type || !(cert->signature_key == ca) ||
      cert->spec.key_id != key_id) {
    return Err(Lost(Internal("the signer returned a certificate that is not the one asked for")));
  }
  return cert;
}

Result<IssuedUserCertificate> SignerClient::SignUserCertificate(const UserCertificateRequest& req) {
  if (req.ttl.count() <= 0) return Err(InvalidArgument("certificate lifetime must be positive"));
  SignUserRequest m;
  m.user = req.user;
  m.ttl_seconds = static_cast<std::uint64_t>(req.ttl.count());
  m.public_key = req.public_key;
  m.logins = req.logins;
  m.source = req.source.substr(0, kMaxSignerSourceBytes);
  auto reply = Call(std::move(m));
  if (!reply) return Err(reply.error());
  auto* signed_user = std::get_if<SignUserReply>(&*reply);
  auto cert = CheckIssued(signed_user ? &signed_user->certificate : nullptr, ssh::CertType::kUser,
                          req.user);
  if (!cert) return Err(cert.error());
  IssuedUserCertificate issued;
  for (const auto& [name, value] : cert->spec.extensions) issued.extensions.push_back(name);
  issued.certificate = std::move(*cert);
  issued.roles = std::move(signed_user->roles);
  return issued;
}

Result<ssh::Certificate> SignerClient::SignHostCertificate(const HostCertificateRequest& req) {
  SignHostRequest m{req.host_uuid, req.public_key, req.principals,
                    req.source.substr(0, kMaxSignerSourceBytes)};
  auto reply = Call(std::move(m));
  if (!reply) return Err(reply.error());
  auto* signed_host = std::get_if<SignHostReply>(&*reply);
  return CheckIssued(signed_host ? &signed_host->certificate : nullptr, ssh::CertType::kHost,
                     req.host_uuid);
}

}  // namespace gate::ca
