#include "ca-server/api/memory_trim.h"

#include <malloc.h>

namespace gate::ca {
MemoryTrim ReturnFreeMemory(std::size_t threshold) {
  MemoryTrim out;
  // Pages malloc_trim hands back stay free chunks in malloc's books
  // (MADV_DONTNEED), so fordblks says what may be returned, not what was.
  out.free_bytes = mallinfo2().fordblks;
  if (out.free_bytes >= threshold) {
    malloc_trim(0);
    out.trimmed = true;
  }
  return out;
}

}  // namespace gate::ca
