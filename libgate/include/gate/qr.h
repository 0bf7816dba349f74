// QR codes (ISO/IEC 18004) as module matrices, from libqrencode: one
// encoder for every place gate shows a TOTP enrollment URI (`gate signup`'s
// terminal rendering, the signup page's JSON). Linked as gate::qr, a
// library of its own, so only the programs that draw codes load libqrencode.
//
// Thread safety: EncodeQr may be called concurrently.
#ifndef GATE_QR_H_
#define GATE_QR_H_

#include <string_view>
#include <vector>

#include "gate/status.h"

namespace gate {

struct QrMatrix {
  int size = 0;            // modules per side, without a quiet zone
  std::vector<bool> dark;  // size * size, row by row; true = dark module
  bool Dark(int x, int y) const {
    return x >= 0 && y >= 0 && x < size && y < size &&
           dark[static_cast<std::size_t>(y) * static_cast<std::size_t>(size) +
                static_cast<std::size_t>(x)];
  }
};

// text as 8-bit data at error correction level M, in the smallest version
// that holds it. Internal if libqrencode cannot encode it (too long).
Result<QrMatrix> EncodeQr(std::string_view text);

}  // namespace gate

#endif  // GATE_QR_H_
