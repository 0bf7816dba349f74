// gate-node upload: ship the recordings in the spool to gate-ca and delete
// each once gate-ca has acknowledged all of it (docs/recording.md, "Central
// collection"). Runs as gate-upload.service.
#include <signal.h>
#include <time.h>

#include <ctime>
#include <iostream>

#include "gate/exit_code.h"
#include "gate/log.h"
#include "gate/node_state.h"
#include "sshd-hooks/node/commands.h"
#include "sshd-hooks/node/node_flags.h"
#include "sshd-hooks/node/session_upload.h"

namespace gate::node {
namespace {

constexpr char kTool[] = "gate-node upload";

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

class UploadCommand final : public cli::Command {
 public:
  void Define(CLI::App& sub) override {
    sub.add_flag("--once", once_,
                 "One pass over the spool, then exit: 0 if everything in it was shipped (and "
                 "finished recordings acknowledged and deleted), 1 if anything failed");
    sub.add_option("--spool", options_.spool_dir,
                   "The recorder's spool directory (default /var/spool/gate/sessions)");
    sub.add_option("--data-dir", data_dir_,
                   "Where node.json, with the node's credentials, is (default /var/lib/gate-node)");
    sub.add_option("--grace", grace_seconds_,
                   "Seconds after its last write that an unlocked, unfinished recording is taken "
                   "as cut short by a recorder that died, and shipped as finished (default 30)")
        ->check(CLI::Range(0, 86400));
    sub.footer(
        "Each <session-id>.cast in the spool is shipped to gate-ca in chunks of at most 1 MiB\n"
        "(PUT /v1/nodes/sessions/ID?offset=N), authenticated with the node credentials in\n"
        "node.json. A recording whose recorder still holds its lock is live: the bytes written\n"
        "so far are shipped and it stays. A finished one (it ends with the exit event and its\n"
        "checkpoint, or was last written --grace seconds ago by a recorder that died) is then\n"
        "completed (POST /v1/nodes/sessions/ID/complete with its size and SHA-256); gate-ca\n"
        "checks its copy, verifies the signed checkpoints, indexes and audits the session, and\n"
        "only when it acknowledges the same size and digest is the file deleted.\n"
        "gate-ca is the source of truth for what it holds: after a restart, or a 409, the\n"
        "upload resumes where gate-ca says. Without --once, passes run every second; after a\n"
        "failed pass the wait doubles up to 60 s. Stops on SIGTERM or SIGINT.\n"
        "Logs one line per recording finished or failed; never logs the node secret.\n\n"
        "Exit status: 0 success, 1 failure (with --once: any recording failed), 2 usage\n"
        "error, 5 not joined (no node.json).\n");
  }

  int Run() override {
    log::Init(log::Sink::kStderr, "gate-node", log::Level::kInfo);
    options_.grace = std::chrono::seconds(grace_seconds_);
    auto state = ReadJoinedNode(data_dir_);
    if (!state) return cli::Fail(kTool, state.error());
    HttpClientOptions client = NodeClientOptions(*state);
    client.timeout = std::chrono::seconds(60);
    hooks::HttpUploadTarget target(client);
    hooks::Uploader uploader(options_, target, Now);

    if (once_) {
      const hooks::PassReport report = uploader.RunOnce();
      std::cout << "gate-node upload: " << report.files << " recordings, " << report.completed
                << " completed and removed, " << report.bytes_sent << " bytes sent, "
                << report.failed << " failed\n";
      return report.ok() ? cli::kExitOk : cli::kExitFailure;
    }

    // Signals are taken synchronously, as the sleep between passes.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, nullptr);
    log::Info("upload: shipping " + options_.spool_dir + " to " + state->proxy);
    hooks::Backoff backoff;
    for (;;) {
      const hooks::PassReport report = uploader.RunOnce();
      const std::chrono::seconds wait = backoff.Next(report.ok());
      if (!report.ok()) {
        log::Warning("upload: " + std::to_string(report.failed) +
                     " recordings failed; next try in " + std::to_string(wait.count()) + " s");
      }
      const timespec timeout{static_cast<time_t>(wait.count()), 0};
      const int sig = sigtimedwait(&stop, nullptr, &timeout);
      if (sig == SIGTERM || sig == SIGINT) {
        log::Info("upload: signal " + std::to_string(sig) + ", stopping");
        return cli::kExitOk;
      }
    }
  }

 private:
  hooks::UploaderOptions options_;
  std::string data_dir_ = "/var/lib/gate-node";
  int grace_seconds_ = 30;
  bool once_ = false;
};

}  // namespace

std::unique_ptr<cli::Command> MakeUploadCommand() { return std::make_unique<UploadCommand>(); }

}  // namespace gate::node
