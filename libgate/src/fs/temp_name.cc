#include "fs/temp_name.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>

namespace gate {

// 12 hex digits from getrandom(): unguessable, so another user who can write
// the directory cannot pre-create (O_EXCL makes that fail safe, but it would
// block us) or predict our temp file.
Result<std::string> RandomSuffix() {
  unsigned char bytes[6];
  std::size_t got = 0;
  while (got < sizeof(bytes)) {
    const ssize_t n = ::getrandom(bytes + got, sizeof(bytes) - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Err(Internal(std::string("getrandom: ") + std::strerror(errno)));
    }
    got += static_cast<std::size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

}  // namespace gate
