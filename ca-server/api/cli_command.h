// The `gate` commands the web pages show a person to run in a terminal.
#ifndef GATE_CA_API_CLI_COMMAND_H_
#define GATE_CA_API_CLI_COMMAND_H_

#include <string>
#include <string_view>

#include "ca-server/api/services.h"

namespace gate::ca {

// "gate SUBCOMMAND --proxy PUBLIC_ADDR", plus " --ca-pin sha256:..." when
// gate-ca's HTTPS certificate is its own self-signed one (the user's system
// does not trust it, so the CLI needs the pin to connect). The one place the
// signup page's and the login page's commands come from. Thread-safe (reads
// only).
std::string GateCommand(const Services& s, std::string_view subcommand);

}  // namespace gate::ca

#endif  // GATE_CA_API_CLI_COMMAND_H_
