// The node's policy cache file (cache/policy.db): whatever bytes are in it,
// both readers return a snapshot or an error, never crash or run away.
// The readers take a file (they map it after checking its owner and mode),
// so each input is written to one scratch directory in /dev/shm first
// (on disk, writing would be most of the time), removed at exit.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "gate/node_cache.h"

namespace {

gate::node::CacheLocation* cache = nullptr;

void RemoveScratch() {
  ::unlink(cache->PolicyPath().c_str());
  ::rmdir(cache->dir.c_str());
}

const gate::node::CacheLocation& Cache() {
  if (cache == nullptr) {
    char dir[] = "/dev/shm/fuzz-policy-db-XXXXXX";
    if (::mkdtemp(dir) == nullptr || ::chmod(dir, 0755) != 0) ::abort();
    cache = new gate::node::CacheLocation;
    cache->dir = dir;
    cache->owner = ::geteuid();
    std::atexit(RemoveScratch);
  }
  return *cache;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const gate::node::CacheLocation& where = Cache();
  // A plain rewrite: WriteFileAtomic's fsyncs would make each input cost
  // milliseconds, and the readers never see a half-written file here.
  std::FILE* f = std::fopen(where.PolicyPath().c_str(), "wb");
  if (f == nullptr || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0 ||
      ::chmod(where.PolicyPath().c_str(), gate::node::kCacheFileMode) != 0) {
    ::abort();
  }
  (void)gate::node::ReadLoginSnapshot(where, "alice", 7);
  (void)gate::node::ReadSnapshot(where);
  return 0;
}
