// The headers of a user's signed request, as gate-ca reads them off the
// network (Authorization and the signature header).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gate/request_signing.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view header(reinterpret_cast<const char*>(data), size);
  (void)gate::signing::ParseAuthorization(header);
  (void)gate::signing::ParseSignatureHeader(header);
  return 0;
}
