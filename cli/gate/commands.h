// The gate commands; each is defined in the file of the same name.
#ifndef GATE_CLI_GATE_COMMANDS_H_
#define GATE_CLI_GATE_COMMANDS_H_

#include <memory>
#include <string>

#include "gate/cli_command.h"

namespace gate::cli {

std::unique_ptr<Command> MakeSignupCommand();
std::unique_ptr<Command> MakeLoginCommand();
std::unique_ptr<Command> MakeStatusCommand();
std::unique_ptr<Command> MakeConfigCommand();
std::unique_ptr<Command> MakeLogoutCommand();
std::unique_ptr<Command> MakeMfaAddCommand();
std::unique_ptr<Command> MakePlayCommand();
std::unique_ptr<Command> MakeJoinCommand();
std::unique_ptr<Command> MakeSessionsCommand();
std::unique_ptr<Command> MakeLsCommand();
std::unique_ptr<Command> MakeSshCommand();
std::unique_ptr<Command> MakeScpCommand();
std::unique_ptr<Command> MakeVersionCommand();

// "gate v0.1.0": gate version and gate --version.
std::string GateVersionLine();

}  // namespace gate::cli

#endif  // GATE_CLI_GATE_COMMANDS_H_
