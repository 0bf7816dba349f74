// A recording as a node uploads it: gate-ca parses and verifies whatever a
// (possibly compromised) node sends, with that node's recorder key.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ca-server/sessions/recording_summary.h"

namespace {
// The key that signed corpus/recording/*: seeds verify, and mutated
// checkpoints must fail cleanly.
constexpr std::string_view kRecorderKey =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL9ScnUgsZLXdoky9k+Zhc+0rZmzi2hGJPQ0EPMVM9JA gate-rec";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)gate::ca::SummarizeRecording(std::string_view(reinterpret_cast<const char*>(data), size),
                                     kRecorderKey);
  return 0;
}
