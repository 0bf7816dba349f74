// The gate-node commands; each is defined in the file of the same name.
#ifndef GATE_SSHD_HOOKS_NODE_COMMANDS_H_
#define GATE_SSHD_HOOKS_NODE_COMMANDS_H_

#include <memory>

#include "gate/cli_command.h"

namespace gate::node {

std::unique_ptr<cli::Command> MakeJoinCommand();
std::unique_ptr<cli::Command> MakeSyncCommand();
std::unique_ptr<cli::Command> MakeStatusCommand();
std::unique_ptr<cli::Command> MakeLeaveCommand();
std::unique_ptr<cli::Command> MakeRecordOnCommand();
std::unique_ptr<cli::Command> MakeRecordOffCommand();
std::unique_ptr<cli::Command> MakeRecordStatusCommand();
std::unique_ptr<cli::Command> MakeUploadCommand();
std::unique_ptr<cli::Command> MakeOtpRelayCommand();

}  // namespace gate::node

#endif  // GATE_SSHD_HOOKS_NODE_COMMANDS_H_
