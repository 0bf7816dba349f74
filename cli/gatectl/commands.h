// The gatectl commands; each is defined in the file of the same name.
#ifndef GATE_CLI_GATECTL_COMMANDS_H_
#define GATE_CLI_GATECTL_COMMANDS_H_

#include <memory>

#include "gate/cli_command.h"

namespace gate::cli {

std::unique_ptr<Command> MakeUsersAddCommand();
std::unique_ptr<Command> MakeUsersLsCommand();
std::unique_ptr<Command> MakeUsersRmCommand();
std::unique_ptr<Command> MakeUsersResetCommand();
std::unique_ptr<Command> MakeUsersUpdateCommand();
std::unique_ptr<Command> MakeUsersLockCommand();
std::unique_ptr<Command> MakeUsersUnlockCommand();
std::unique_ptr<Command> MakeRolesAddCommand();
std::unique_ptr<Command> MakeRolesLsCommand();
std::unique_ptr<Command> MakeConnectorsLsCommand();
std::unique_ptr<Command> MakeRolesUpdateCommand();
std::unique_ptr<Command> MakeRolesRmCommand();
std::unique_ptr<Command> MakeTokensAddCommand();
std::unique_ptr<Command> MakeNodesLsCommand();
std::unique_ptr<Command> MakeNodesRmCommand();
std::unique_ptr<Command> MakeNodesUpdateCommand();
std::unique_ptr<Command> MakeCertsRevokeCommand();
std::unique_ptr<Command> MakeCaExportCommand();
std::unique_ptr<Command> MakeAuditCommand();
std::unique_ptr<Command> MakeSessionsPruneCommand();

}  // namespace gate::cli

#endif  // GATE_CLI_GATECTL_COMMANDS_H_
