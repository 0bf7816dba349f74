// The OTP relay's lines: requests (from a local root process) and replies.
// A request that parses must format back to the same line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gate/otp_relay.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  if (auto request = gate::ParseOtpRelayRequest(line); request) {
    auto again = gate::FormatOtpRelayRequest(request->user, request->code.view(), request->timeout);
    if (!again || again->view().substr(0, again->size() - 1) != line) std::abort();
  }
  if (auto reply = gate::ParseOtpRelayReply(line); reply) {
    (void)gate::FormatOtpRelayReply(*reply);
  }
  return 0;
}
