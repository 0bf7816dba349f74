// gatectl: the admin's tool. Talks to the local gate-ca over its admin socket.
#include "cli/common/exit_code.h"
#include "cli/gatectl/commands.h"
#include "gate/log.h"

int main(int argc, char** argv) {
  using namespace gate::cli;
  gate::log::Init(gate::log::Sink::kStderr, "gatectl", gate::log::Level::kWarning);
  CLI::App app{
      "gatectl: administer a gate cluster (users, signup tokens, certificate authorities).\n"
      "Runs on the gate-ca host as root (or gate-ca's own user), over the admin socket\n"
      "in the data dir.",
      "gatectl"};
  app.footer(std::string(kExitCodeHelp));
  const std::vector<CommandEntry> table = {
      {"users add", "Add a user and print a one-time signup URL", MakeUsersAddCommand},
      {"users ls", "List users", MakeUsersLsCommand},
      {"users rm", "Delete a user", MakeUsersRmCommand},
      {"users reset", "Forget a user's password and OTP and print a new signup URL",
       MakeUsersResetCommand},
      {"ca export", "Print a certificate authority's public key", MakeCaExportCommand},
  };
  return RunCommandTable(app, table, argc, argv);
}
