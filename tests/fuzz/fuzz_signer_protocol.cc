// The signer protocol (ca-server/signer/protocol.h): the frames the signer,
// which holds the CA keys, reads from gate-ca's network front end. The input
// is a frame: its 4-byte length header, then the body. A body that parses
// must encode back to exactly the same bytes (one spelling per message).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ca-server/signer/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (input.size() < gate::ca::kSignerFrameHeaderBytes) return 0;
  auto length = gate::ca::DecodeSignerFrameLength(input.substr(0, 4));
  const std::string_view body = input.substr(gate::ca::kSignerFrameHeaderBytes);
  if (length && *length > gate::ca::kMaxSignerFrameBytes) std::abort();
  auto message = gate::ca::DecodeSignerBody(body);
  if (!message) return 0;
  auto frame = gate::ca::EncodeSignerFrame(*message);
  if (!frame || std::string_view(*frame).substr(gate::ca::kSignerFrameHeaderBytes) != body) {
    std::abort();
  }
  return 0;
}
