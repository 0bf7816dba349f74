// gate-record: sshd's ForceCommand on a node with recording on. Parses the
// command line and hands over to RunRecorder (session/recorder.h).
#include <openssl/crypto.h>
#include <unistd.h>

#include <string>
#include <string_view>
#include <utility>

#include "gate/log.h"
#include "recorder/join/live_join.h"
#include "recorder/session/recorder.h"

namespace {

constexpr std::string_view kHelp =
    R"HELP(NAME
    gate-record - run an SSH session in a pty and record it

SYNOPSIS
    gate-record [--config FILE]
    gate-record --help

DESCRIPTION
    sshd runs gate-record for every session on a node where recording is
    on, as its ForceCommand (gate-node record on) or as the command= option
    gate-principals prints for roles with --record-sessions:

      ForceCommand /usr/libexec/gate/gate-record

    It is installed setuid to the system user gate-rec (mode 4755), so the
    user whose session it records can neither stop it, trace it, nor alter
    or remove the recording. It:

      1. reads the identity sshd exposed (the file named by SSH_USER_AUTH;
         sshd_config needs ExposeAuthInfo yes) with the user's uid, and
         checks the Gate certificate in it against the node's cache: signed
         by a CA in user_ca.pub, valid now, and allowed by policy.db to
         log in as this account. The Gate user is its key id. sshd must
         have started it for this session (its parent, or the login
         shell's, is sshd's session process): run by hand or from inside
         another session it refuses, whatever file SSH_USER_AUTH names;
      2. creates SPOOL/<id>.cast (asciicast v2 with gate's header fields
         and signed checkpoints) and RUN/<id>.json, the live registry;
      3. runs the user's login shell (or, when the client asked for a
         command, "SHELL -c COMMAND", with SSH_ORIGINAL_COMMAND) as the
         user, with GATE_SESSION_ID set:
           - with a terminal: in a new pty whose size follows the client's;
             what it prints is recorded ("o"), resizes too ("r"), and
             keystrokes ("i") when record_input is on and the terminal
             echoes (passwords typed with echo off are never recorded);
           - without a terminal: through pipes the recorder relays and
             counts. File transfers (the server side of scp, sftp and
             rsync) run the system's program and are recorded as metadata:
             the command, the times, the exit status and the bytes each
             way (their bytes too if record_exec_output is on). Anything
             else (ssh host cmd, ssh -T host) is recorded both ways: what
             it reads ("i") and what it prints ("o");
           - "gate-forward HOST PORT": no program; a TCP connection to
             HOST:PORT relayed from the session's stdin and stdout, when
             the certificate and a role on this node grant port
             forwarding; recorded as the destination and the bytes;
           output reaches the user only once it is in the recording;
      4. drops to gate-rec entirely, records the session until the program
         exits, then writes the exit status ("x"), signs, fsyncs and
         closes the recording, and exits with the program's status.

    A command of exactly the form "gate join --mode observer|peer ID"
    (what gate join on a workstation sends) is a live-join request: the
    recorder serves it itself, as the Gate user of the certificate, with
    gate join's messages and exit statuses, and records nothing else.

    Without syslog (/dev/log) or the journal, its log lines go to
    SPOOL/gate-record.log, never to its stderr.

    It fails closed: if the session cannot be recorded (settings or key
    missing or unsafe, no Gate certificate, a cache or policy that does not
    allow the login, a spool that cannot be written), it prints one line,
    "gate-record: cannot record this session: REASON; access denied",
    logs it, and exits 1 without running anything. If writing the
    recording fails during the session, the session is hung up.

OPTIONS
    --config FILE
        Settings file instead of /etc/gate/recorder.json. It is used only
        if FILE and every directory above it are owned by root and not
        writable by group or others. The session gets
        GATE_RECORDER_CONFIG=FILE, for gate status.
    -h, --help
        Print this help and exit 0.

FILES
    /etc/gate/recorder.json          settings (root, 0644); see
                                     docs/recording.md for the fields
    /var/lib/gate-rec/recorder.key   the signing key (gate-rec, 0600)
    /var/spool/gate/sessions/        recordings (gate-rec, 0700)
    /run/gate/sessions/              live sessions (gate-rec, 0755)

EXIT STATUS
    The session's exit status; 128+N if it was killed by signal N;
    1 if the session could not be recorded and was not started;
    2 for a usage error.

SEE ALSO
    gate-node(8), gate(1) status, play, join; sshd_config(5)
    ForceCommand, ExposeAuthInfo; docs/recording.md
)HELP";

int Usage(const std::string& message) {
  gate::log::Error("usage error: " + message);
  const std::string line =
      "gate-record: " + message + "\nusage: gate-record [--config FILE] (see --help)\n";
  (void)!::write(STDERR_FILENO, line.data(), line.size());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // Setuid: OpenSSL must not read a configuration the user could name.
  OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, nullptr);
  // Never to stderr: that is the user's terminal or ssh channel. Without
  // syslog or the journal, RunRecorder routes the lines to the spool.
  gate::log::Destinations log_to;
  log_to.fallback_fd = -1;
  gate::log::Init(gate::log::Sink::kSyslog, "gate-record", gate::log::Level::kInfo, log_to);
  gate::recorder::RecorderOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::string_view text = kHelp;
      while (!text.empty()) {
        const ssize_t n = ::write(STDOUT_FILENO, text.data(), text.size());
        if (n <= 0) return 2;
        text.remove_prefix(static_cast<std::size_t>(n));
      }
      return 0;
    }
    if (arg == "--config" || arg.starts_with("--config=")) {
      std::string value;
      if (arg == "--config") {
        if (i + 1 >= argc) return Usage("--config needs a file");
        value = argv[++i];
      } else {
        value = std::string(arg.substr(9));
      }
      if (value.empty()) return Usage("--config needs a file");
      options.config_path = value;
      options.config_given = true;
      continue;
    }
    return Usage("unknown argument '" + std::string(arg) + "'");
  }
  // Live join (docs/recording.md): the session's socket, the default
  // authorizer over the run directory and the node's policy cache, and the
  // history kept in the spool for joiners.
  options.hub_factory = [](const gate::recorder::HubRequest& request,
                           gate::recorder::JoinCallbacks callbacks) {
    return gate::recorder::ListenForJoiners(
        {request.socket_path, request.summary, request.settings->run_dir,
         request.settings->cache_dir, request.settings->spool_dir,
         request.settings->join_history_bytes},
        std::move(callbacks));
  };
  return gate::recorder::RunRecorder(options);
}
