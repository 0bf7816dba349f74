// gate: the user's tool. Sign up, log in for a short-lived SSH certificate,
// and point plain OpenSSH at it.
#include "cli/gate/commands.h"
#include "gate/exit_code.h"
#include "gate/log.h"

int main(int argc, char** argv) {
  using namespace gate::cli;
  gate::log::Init(gate::log::Sink::kStderr, "gate", gate::log::Level::kWarning);
  CLI::App app{
      "gate: log in to a gate cluster and use plain ssh with a short-lived certificate.\n\n"
      "  gate signup --proxy HOST         finish the signup an admin started (paste its URL)\n"
      "  gate login --proxy HOST          get a certificate (password + OTP)\n"
      "  gate ls                          the nodes you may log into\n"
      "  gate ssh LOGIN@NODE              ssh with it (or: gate config >> ~/.ssh/config,\n"
      "                                   then plain ssh LOGIN@NODE)",
      "gate"};
  app.footer(std::string(kExitCodeHelp) +
             "\nFiles: ~/.gate (or $GATE_HOME): keys/PROXY/USER/{key,key-cert.pub,profile.json}\n"
             "per cluster and user, current-profile, known_hosts.");
  app.set_version_flag("--version", GateVersionLine(), "Print the version and exit");
  const std::vector<CommandEntry> table = {
      {"signup", "Sign up with the URL an admin shared: choose a password, enroll OTP",
       MakeSignupCommand},
      {"login", "Log in and get an SSH certificate", MakeLoginCommand},
      {"status", "Show the current login profile and the other saved ones", MakeStatusCommand},
      {"ls", "List the nodes you may log into, with labels and logins", MakeLsCommand},
      {"ssh", "Run ssh to a node with your gate login (no ssh_config needed)", MakeSshCommand},
      {"scp", "Run scp to or from nodes with your gate login", MakeScpCommand},
      {"config", "Print an ssh_config block that makes plain ssh use gate", MakeConfigCommand},
      {"logout", "Delete the key and certificate of the current profile", MakeLogoutCommand},
      {"mfa add", "Enroll an OTP app or a security key for pam_gate.so on this host",
       MakeMfaAddCommand},
      {"sessions", "List recorded sessions (yours, and those your roles may join)",
       MakeSessionsCommand},
      {"play", "Replay a recorded session; --verify checks its signatures", MakePlayCommand},
      {"join", "Join a live recorded session on this node (watch, or type as a peer)",
       MakeJoinCommand},
      {"version", "Print the version", MakeVersionCommand},
  };
  return RunCommandTable(app, table, argc, argv);
}
