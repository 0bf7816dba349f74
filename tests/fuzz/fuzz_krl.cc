// OpenSSH KRLs, as nodes read the one gate-ca sends them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gate/krl.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)gate::ssh::ParseKrl(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
