// Reading and writing whole signer-protocol frames (signer/protocol.h) on a
// blocking SOCK_SEQPACKET socket, one frame per message, for both ends of
// the socketpair: a frame is read with one call and never split or merged.
#ifndef GATE_CA_SIGNER_FRAME_IO_H_
#define GATE_CA_SIGNER_FRAME_IO_H_

#include "ca-server/signer/protocol.h"
#include "gate/status.h"

namespace gate::ca {

// Writes the whole frame (MSG_NOSIGNAL: a peer that left is an error, not a
// SIGPIPE). Unavailable on any failure.
Status WriteSignerFrame(int fd, const SignerMessage& message);

// Reads one whole frame. NotFound("signer connection closed") when the peer
// has closed; Unavailable on an I/O error or a timeout; InvalidArgument for
// a message over the frame limit or whose header does not give its length,
// and the decoder's InvalidArgument/DataLoss for a body that is not well
// formed.
Result<SignerMessage> ReadSignerFrame(int fd);

}  // namespace gate::ca

#endif  // GATE_CA_SIGNER_FRAME_IO_H_
