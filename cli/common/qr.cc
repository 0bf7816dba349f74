#include "cli/common/qr.h"

#include "gate/qr.h"

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
  auto qr = EncodeQr(text);
  if (!qr) return Err(qr.error());
  const int width = qr->size;
  auto dark = [&](int x, int y) { return qr->Dark(x, y); };
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
