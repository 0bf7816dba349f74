// gatectl: the admin's tool. Talks to the local gate-ca over its admin socket.
#include "cli/gatectl/admin_client.h"
#include "cli/gatectl/commands.h"
#include "gate/exit_code.h"
#include "gate/log.h"

int main(int argc, char** argv) {
  using namespace gate::cli;
  gate::log::Init(gate::log::Sink::kStderr, "gatectl", gate::log::Level::kWarning);
  CLI::App app{
      "gatectl: administer a gate cluster (users, roles, locks, node tokens, nodes,\n"
      "certificate revocation, certificate authorities, recording retention, the\n"
      "audit log).\n"
      "Runs on the gate-ca host as root (or gate-ca's own user), over the admin socket\n"
      "in the data dir.",
      "gatectl"};
  app.footer(std::string(kExitCodeHelp));
  DefineGlobalAdminFlags(app);
  const std::vector<CommandEntry> table = {
      {"users add", "Add a user and print a one-time signup URL", MakeUsersAddCommand},
      {"users ls", "List users", MakeUsersLsCommand},
      {"users rm", "Delete a user", MakeUsersRmCommand},
      {"users reset", "Forget a user's password and OTP and print a new signup URL",
       MakeUsersResetCommand},
      {"users update", "Replace a user's roles and/or logins", MakeUsersUpdateCommand},
      {"users lock", "Lock a user out of logins and nodes", MakeUsersLockCommand},
      {"users unlock", "Remove a user's lock", MakeUsersUnlockCommand},
      {"roles add", "Add (or --replace) a role: logins on the nodes it selects",
       MakeRolesAddCommand},
      {"roles ls", "List roles", MakeRolesLsCommand},
      {"roles update", "Change some of a role's settings (e.g. --record-sessions=true)",
       MakeRolesUpdateCommand},
      {"roles rm", "Delete a role no user holds", MakeRolesRmCommand},
      {"connectors ls", "List the single sign-on connectors gate.yaml declares",
       MakeConnectorsLsCommand},
      {"tokens add", "Create a node join token and print the gate-node join command",
       MakeTokensAddCommand},
      {"nodes ls", "List joined nodes and when they last synced", MakeNodesLsCommand},
      {"nodes rm", "Forget a node (its credential stops working)", MakeNodesRmCommand},
      {"nodes update", "Set the host names a node's certificate carries", MakeNodesUpdateCommand},
      {"certs revoke", "Revoke certificates by serial or by user", MakeCertsRevokeCommand},
      {"ca export", "Print a certificate authority's public key", MakeCaExportCommand},
      {"sessions prune", "Remove recordings older than --older-than (retention)",
       MakeSessionsPruneCommand},
      {"audit", "Show the audit log: logins, admin changes, nodes, sessions (--failed ...)",
       MakeAuditCommand},
  };
  return RunCommandTable(app, table, argc, argv);
}
