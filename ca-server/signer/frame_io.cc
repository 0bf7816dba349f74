#include "ca-server/signer/frame_io.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace gate::ca {
namespace {

Status IoError(int e) {
  return Unavailable(std::string("signer connection: ") +
                     (e == EAGAIN || e == EWOULDBLOCK ? "timed out" : std::strerror(e)));
}

}  // namespace

Status WriteSignerFrame(int fd, const SignerMessage& message) {
  auto frame = EncodeSignerFrame(message);
  if (!frame) return frame.error();
  for (;;) {
    const ssize_t w = ::send(fd, frame->data(), frame->size(), MSG_NOSIGNAL);
    if (w == static_cast<ssize_t>(frame->size())) return Status::Ok();
    if (w < 0 && errno == EINTR) continue;
    return w < 0 ? IoError(errno) : Unavailable("signer connection: short write");
  }
}

Result<SignerMessage> ReadSignerFrame(int fd) {
  // One frame is one message (SOCK_SEQPACKET): one call reads it whole, and
  // MSG_TRUNC reports the real size of one that does not fit.
  char buf[kSignerFrameHeaderBytes + kMaxSignerFrameBytes];
  ssize_t got;
  do {
    got = ::recv(fd, buf, sizeof(buf), MSG_TRUNC);
  } while (got < 0 && errno == EINTR);
  if (got < 0) return Err(IoError(errno));
  if (got == 0) return Err(NotFound("signer connection closed"));
  const auto size = static_cast<std::size_t>(got);
  if (size < kSignerFrameHeaderBytes) {
    return Err(InvalidArgument("signer protocol: a frame shorter than its header"));
  }
  if (size > sizeof(buf)) {
    return Err(InvalidArgument("signer protocol: a frame of " + std::to_string(size) +
                               " bytes is over the limit"));
  }
  auto length = DecodeSignerFrameLength(std::string_view(buf, kSignerFrameHeaderBytes));
  if (!length) return Err(length.error());
  if (*length != size - kSignerFrameHeaderBytes) {
    return Err(InvalidArgument("signer protocol: the frame header says " + std::to_string(*length) +
                               " bytes, the frame has " +
                               std::to_string(size - kSignerFrameHeaderBytes)));
  }
  return DecodeSignerBody(std::string_view(buf + kSignerFrameHeaderBytes, *length));
}

}  // namespace gate::ca
