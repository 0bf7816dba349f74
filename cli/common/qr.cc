#include "cli/common/qr.h"

#include <qrencode.h>

#include "gate/cptr.h"

namespace gate::cli {

Result<std::string> RenderQr(std::string_view text) {
  const std::string input(text);
  CPtr<QRcode, QRcode_free> qr(QRcode_encodeString(input.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1));
  if (!qr) return Err(Internal("cannot encode the QR code"));
  const int width = qr->width;
  constexpr int kQuiet = 2;
  auto dark = [&](int x, int y) {
    if (x < 0 || y < 0 || x >= width || y >= width) return false;
    return (qr->data[y * width + x] & 1) != 0;
  };
  std::string out;
  for (int y = -kQuiet; y < width + kQuiet; y += 2) {
    for (int x = -kQuiet; x < width + kQuiet; ++x) {
      const bool top_light = !dark(x, y);
      const bool bottom_light = y + 1 < width + kQuiet && !dark(x, y + 1);
      if (top_light && bottom_light)
        out += "\u2588";
      else if (top_light)
        out += "\u2580";
      else if (bottom_light)
        out += "\u2584";
      else
        out += " ";
    }
    out += "\n";
  }
  return out;
}

}  // namespace gate::cli
