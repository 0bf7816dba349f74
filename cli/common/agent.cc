#include "cli/common/agent.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gate/ssh_wire.h"
#include "gate/unique_fd.h"

namespace gate::cli {
namespace {

// Message numbers from the ssh-agent protocol (draft-miller-ssh-agent).
constexpr std::uint8_t kAgentFailure = 5;
constexpr std::uint8_t kAgentSuccess = 6;
constexpr std::uint8_t kRemoveIdentity = 18;
constexpr std::uint8_t kAddIdConstrained = 25;
constexpr std::uint8_t kConstrainLifetime = 1;
constexpr std::uint32_t kMaxReply = 256 * 1024;

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Unavailable(std::string("ssh-agent: write: ") + std::strerror(errno));
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

Status ReadAll(int fd, char* buf, std::size_t len) {
  while (len > 0) {
    const ssize_t n = ::read(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Unavailable("ssh-agent closed the connection");
    buf += n;
    len -= static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

// Sends one request and returns the reply's message type.
Result<std::uint8_t> Transact(const std::string& socket_path, const std::string& request) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof(addr.sun_path)) {
    return Err(InvalidArgument("SSH_AUTH_SOCK is empty or too long"));
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Err(Internal(std::string("socket: ") + std::strerror(errno)));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Err(
        Unavailable("cannot connect to ssh-agent at " + socket_path + ": " + std::strerror(errno)));
  }
  ssh::Writer frame;
  frame.PutString(request);
  GATE_RETURN_IF_ERROR(WriteAll(fd.get(), frame.data()));
  char len_buf[4];
  GATE_RETURN_IF_ERROR(ReadAll(fd.get(), len_buf, sizeof(len_buf)));
  ssh::Reader len_reader(std::string_view(len_buf, 4));
  auto len = len_reader.GetU32();
  if (!len) return Err(len.error());
  if (*len == 0 || *len > kMaxReply) return Err(DataLoss("ssh-agent sent a bad reply length"));
  std::string reply(*len, '\0');
  GATE_RETURN_IF_ERROR(ReadAll(fd.get(), reply.data(), reply.size()));
  return static_cast<std::uint8_t>(reply[0]);
}

}  // namespace

Status AddToAgent(const std::string& socket_path, const ssh::Ed25519PrivateKey& key,
                  const ssh::Certificate& cert, std::uint32_t lifetime_seconds,
                  const std::string& comment) {
  const SecretBytes seed = key.Seed();
  SecretString secret(reinterpret_cast<const char*>(seed.data()), seed.size());
  secret.append(key.public_key().raw());
  ssh::Writer msg;
  msg.PutU8(kAddIdConstrained);
  msg.PutString(ssh::kEd25519CertType);
  msg.PutString(cert.blob);
  msg.PutString(key.public_key().raw());
  msg.PutString(secret.view());
  msg.PutString(comment);
  msg.PutU8(kConstrainLifetime);
  msg.PutU32(lifetime_seconds);
  std::string request = msg.Take();
  auto reply = Transact(socket_path, request);
  Wipe(request.data(), request.size());
  if (!reply) return reply.error();
  if (*reply != kAgentSuccess) return FailedPrecondition("ssh-agent refused the key");
  return Status::Ok();
}

Status RemoveFromAgent(const std::string& socket_path, const ssh::Certificate& cert) {
  ssh::Writer msg;
  msg.PutU8(kRemoveIdentity);
  msg.PutString(cert.blob);
  auto reply = Transact(socket_path, msg.Take());
  if (!reply) return reply.error();
  if (*reply != kAgentSuccess && *reply != kAgentFailure) {
    return DataLoss("unexpected ssh-agent reply");
  }
  return Status::Ok();
}

}  // namespace gate::cli
