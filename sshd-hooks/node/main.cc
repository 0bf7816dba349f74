// gate-node: join this host to a gate cluster, keep its policy cache fresh,
// and leave again. One file per command (join.cc, sync.cc, leave.cc).
#include "gate/exit_code.h"
#include "gate/log.h"
#include "sshd-hooks/node/commands.h"

int main(int argc, char** argv) {
  using namespace gate::cli;
  try {
    gate::log::Init(gate::log::Sink::kStderr, "gate-node", gate::log::Level::kWarning);
    CLI::App app{
        "gate-node: enroll this SSH server in a gate cluster and keep its local policy cache\n"
        "fresh. The node keeps running stock OpenSSH: gate-node writes an sshd drop-in that\n"
        "trusts gate's user CA (TrustedUserCAKeys), honours its revocation list (RevokedKeys),\n"
        "presents a gate host certificate (HostCertificate) and asks gate-principals who may\n"
        "log in (AuthorizedPrincipalsCommand), deciding from a local cache with no network\n"
        "on the login path. Runs as root.\n"
        "If gate-ca cannot be reached, logins are decided from the last good cache; once the\n"
        "last successful sync is older than --max-cache-age (default 10m), every sync warns,\n"
        "gate-node status says STALE, and a node joined with --stale-cache deny refuses every\n"
        "login until a sync succeeds (the default, allow, logs a warning per login instead).",
        "gate-node"};
    app.footer(
        "Typical use:\n"
        "  gate-node join --proxy grav-00:3080 --ca-pin sha256:...   # paste the token\n"
        "  gate-node join --proxy grav-00:3080 --ca-pin sha256:... --stale-cache deny\n"
        "  systemctl enable --now gate-node-sync.timer     # gate-node sync every 30 s\n"
        "  systemctl enable --now gate-upload.service      # ship recordings to gate-ca\n"
        "  systemctl enable --now gate-otp-relay.socket    # for pam_gate.so source=central\n"
        "  gate-node leave\n"
        "Run `gate-node COMMAND --help` for each command's flags and files.\n" +
        std::string(kExitCodeHelp));
    const std::vector<CommandEntry> table = {
        {"join", "Enroll this host: host certificate, policy cache, sshd drop-in",
         gate::node::MakeJoinCommand},
        {"sync", "Refresh the policy cache and renew the host certificate when due",
         gate::node::MakeSyncCommand},
        {"status", "Show whether this node enforces gate: cache age, last sync, sshd settings",
         gate::node::MakeStatusCommand},
        {"leave", "Undo join: remove the drop-in, host certificate, cache and node identity",
         gate::node::MakeLeaveCommand},
        {"record on", "Record every session here (or --roles-only): recorder, key, ForceCommand",
         gate::node::MakeRecordOnCommand},
        {"record off", "Stop recording every session (keeps the recorder, key and spool)",
         gate::node::MakeRecordOffCommand},
        {"record status", "Show how this node records sessions and what waits for upload",
         gate::node::MakeRecordStatusCommand},
        {"upload", "Ship recorded sessions from the spool to gate-ca (gate-upload.service)",
         gate::node::MakeUploadCommand},
        {"otp-relay", "Check pam_gate.so's OTP codes with gate-ca (gate-otp-relay.socket)",
         gate::node::MakeOtpRelayCommand},
    };
    return RunCommandTable(app, table, argc, argv);
  } catch (...) {
    return kExitFailure;
  }
}
