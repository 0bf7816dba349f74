// QR codes for TOTP enrollment, drawn with UTF-8 half blocks (libqrencode).
#ifndef GATE_CLI_COMMON_QR_H_
#define GATE_CLI_COMMON_QR_H_

#include <string>
#include <string_view>

#include "gate/status.h"

namespace gate::cli {

// Two QR rows per text line, light modules drawn as blocks (for the usual
// light-on-dark terminal), with a quiet zone around the code.
Result<std::string> RenderQr(std::string_view text);

}  // namespace gate::cli

#endif  // GATE_CLI_COMMON_QR_H_
