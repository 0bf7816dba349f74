#include "ca-server/api/memory_trim.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace gate::ca {
namespace {

constexpr std::size_t kChunk = 1024;
constexpr std::size_t kBurstBytes = 64 * 1024 * 1024;

std::size_t ResidentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  const int read = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return read == 2 ? resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) : 0;
}

// What a burst of requests leaves on a worker thread: many small blocks,
// written to and freed, with one still in use above them, so malloc cannot
// give the memory back by shrinking the top of its heap.
void* BurstOnAnotherThread() {
  void* pinned = nullptr;
  std::thread worker([&pinned] {
    std::vector<void*> blocks;
    for (std::size_t i = 0; i < kBurstBytes / kChunk; ++i) {
      void* p = std::malloc(kChunk);
      std::memset(p, 0x5a, kChunk);
      blocks.push_back(p);
    }
    pinned = std::malloc(kChunk);
    for (void* p : blocks) std::free(p);
  });
  worker.join();
  return pinned;
}

TEST(MemoryTrimTest, ReturnsAFreedBurstToTheKernel) {
  void* pinned = BurstOnAnotherThread();
  const std::size_t before = ResidentBytes();
  ASSERT_GT(before, kBurstBytes / 2);

  const MemoryTrim trim = ReturnFreeMemory();

  EXPECT_TRUE(trim.trimmed);
  EXPECT_GE(trim.free_bytes, kBurstBytes / 2);
  const std::size_t after = ResidentBytes();
  EXPECT_LT(after + kBurstBytes / 2, before) << "before " << before << " after " << after;
  std::free(pinned);
}

TEST(MemoryTrimTest, LeavesMemoryAloneBelowTheThreshold) {
  const MemoryTrim trim = ReturnFreeMemory(static_cast<std::size_t>(-1));
  EXPECT_FALSE(trim.trimmed);
}

}  // namespace
}  // namespace gate::ca
