// The policy snapshot nodes take from gate-ca: JSON text, then the snapshot.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gate/json.h"
#include "gate/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto json = gate::json::Parse(std::string_view(reinterpret_cast<const char*>(data), size));
  if (json) (void)gate::policy::SnapshotFromJson(*json);
  return 0;
}
