// Handing memory the allocator keeps after a burst of requests back to the
// kernel. glibc's malloc keeps freed memory in per-thread arenas for reuse
// and returns only the top of the main heap on its own: after 10,000 node
// syncs gate-ca's front end held four times its idle RSS and kept it for
// good (docs/benchmarks.md, "Node fleet"). The HTTP server calls
// ReturnFreeMemory periodically (http_server.cc).
//
// Thread safety: safe from any thread; malloc serialises with its arena
// locks.
#ifndef GATE_CA_API_MEMORY_TRIM_H_
#define GATE_CA_API_MEMORY_TRIM_H_

#include <cstddef>

namespace gate::ca {

// Below this much free memory held by malloc a trim is not worth its cost
// (it walks every arena's free chunks under the arena's lock).
inline constexpr std::size_t kMemoryTrimThreshold = 4 * 1024 * 1024;

struct MemoryTrim {
  std::size_t free_bytes = 0;  // what malloc held free before (mallinfo2 fordblks)
  bool trimmed = false;        // whether malloc_trim ran
};

// When malloc holds at least `threshold` bytes free across all its arenas,
// runs malloc_trim(0), which releases the free pages of every arena (not
// only the top of the heap) to the kernel. Never fails: the figures say
// what happened.
MemoryTrim ReturnFreeMemory(std::size_t threshold = kMemoryTrimThreshold);

}  // namespace gate::ca

#endif  // GATE_CA_API_MEMORY_TRIM_H_
