#include "ca-server/api/cli_command.h"

namespace gate::ca {

std::string GateCommand(const Services& s, std::string_view subcommand) {
  std::string command = "gate ";
  command += subcommand;
  command += " --proxy " + s.config.public_addr.ToString();
  if (s.tls_self_signed) command += " --ca-pin " + s.ca_pin;
  return command;
}

}  // namespace gate::ca
