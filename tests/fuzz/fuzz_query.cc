// Query strings of gate-ca's GET routes, straight off the network.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ca-server/api/query.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto params = gate::ca::ParseQuery(std::string_view(reinterpret_cast<const char*>(data), size),
                                     {"limit", "user", "event", "since", "live", "offset"});
  if (params) {
    (void)gate::ca::QueryNumber(*params, "limit", 50);
    (void)gate::ca::QueryNumber(*params, "offset", 0);
  }
  return 0;
}
