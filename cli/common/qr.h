// QR codes for TOTP enrollment, drawn with UTF-8 half blocks (gate/qr.h).
#ifndef GATE_CLI_COMMON_QR_H_
#define GATE_CLI_COMMON_QR_H_

#include <string>
#include <string_view>

#include "gate/status.h"

namespace gate::cli {

// Two QR rows per text line: each cell is an upper half block whose
// foreground colour is the top module and background colour the bottom one,
// both set explicitly (ANSI black for dark modules, bright white for light
// ones), so the code reads the same on dark and light terminal themes. A
// quiet zone of 4 light modules surrounds it (ISO/IEC 18004), and every line
// ends with a colour reset. Internal if the text cannot be encoded.
Result<std::string> RenderQr(std::string_view text);

}  // namespace gate::cli

#endif  // GATE_CLI_COMMON_QR_H_
