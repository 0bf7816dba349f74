#include "cli/common/qr.h"

#include <qrencode.h>

#include "gate/cptr.h"

namespace gate::cli {
namespace {

// Light modules drawn as the terminal's default colours inverted the code on
// light themes (scanners then fail), so both kinds get explicit colours.
constexpr std::string_view kDarkFg = "30";
constexpr std::string_view kLightFg = "97";
constexpr std::string_view kDarkBg = "40";
constexpr std::string_view kLightBg = "107";
constexpr std::string_view kUpperHalf = "\u2580";
constexpr std::string_view kReset = "\x1b[0m";
constexpr int kQuietZone = 4;  // modules, as ISO/IEC 18004 requires

}  // namespace

Result<std::string> RenderQr(std::string_view text) {
  const std::string input(text);
  CPtr<QRcode, QRcode_free> qr(QRcode_encodeString(input.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1));
  if (!qr) return Err(Internal("cannot encode the QR code"));
  const int width = qr->width;
  auto dark = [&](int x, int y) {
    if (x < 0 || y < 0 || x >= width || y >= width) return false;
    return (qr->data[y * width + x] & 1) != 0;
  };
  std::string out;
  for (int y = -kQuietZone; y < width + kQuietZone; y += 2) {
    // -1: no colour set yet on this line.
    int fg = -1;
    int bg = -1;
    for (int x = -kQuietZone; x < width + kQuietZone; ++x) {
      const int top = dark(x, y) ? 1 : 0;
      // An odd last row is paired with one more quiet (light) row.
      const int bottom = dark(x, y + 1) ? 1 : 0;
      if (top != fg || bottom != bg) {
        out += "\x1b[";
        out += top ? kDarkFg : kLightFg;
        out += ';';
        out += bottom ? kDarkBg : kLightBg;
        out += 'm';
        fg = top;
        bg = bottom;
      }
      out += kUpperHalf;
    }
    out += kReset;
    out += '\n';
  }
  return out;
}

}  // namespace gate::cli
