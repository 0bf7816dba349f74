// The local authfile (TOTP secrets and FIDO2 credentials) pam_gate.so reads.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gate/authfile.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)gate::authfile::Parse(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
