// gate-node sync: refresh the policy cache and, when due, the host
// certificate. Run every 30 s by gate-node-sync.timer.
#include <signal.h>
#include <time.h>

#include <cerrno>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>

#include "gate/curl_http.h"
#include "gate/duration.h"
#include "gate/exit_code.h"
#include "gate/node_cache.h"
#include "gate/refusal_spool.h"
#include "sshd-hooks/node/commands.h"
#include "sshd-hooks/node/effective_config.h"
#include "sshd-hooks/node/end_sessions.h"
#include "sshd-hooks/node/record_setup.h"
#include "sshd-hooks/node/refusal_shipper.h"
#include "sshd-hooks/node/sync_status.h"
#include "sshd-hooks/node/syncer.h"

namespace gate::node {
namespace {

constexpr char kTool[] = "gate-node sync";

// Refused logins gate-principals queued, to gate-ca's audit log. A failure
// keeps them for the next sync and says so; it does not fail the sync.
void ShipRefusedLogins(const NodePaths& paths, const HttpClient& client) {
  const std::string dir = RefusalSpoolDir(paths.CacheDir());
  Status ready = EnsureRefusalSpool(dir, paths.principals_user);
  auto shipped = ready.ok() ? ShipRefusals(dir, client) : Result<ShippedRefusals>(Err(ready));
  if (!shipped) {
    std::cerr << "gate-node sync: refused logins not sent to gate-ca (kept for the next sync): "
              << shipped.error().ToString() << "\n";
    return;
  }
  if (shipped->sent > 0) {
    std::cout << "gate-node sync: " << shipped->sent << " refused login(s) sent to gate-ca\n";
  }
  if (shipped->malformed > 0) {
    std::cerr << "gate-node sync: " << shipped->malformed
              << " malformed line(s) in the refusal spool dropped\n";
  }
}

// Re-checks, on every sync, that sshd still runs with gate's settings: a
// package upgrade or an admin's drop-in can override them at any time.
// Prints what bypasses gate; returns whether anything does.
bool ReportDrift(const NodePaths& paths, const NodeState& node) {
  auto effective = CheckNodeSshd(paths, node);
  if (!effective) {
    std::cerr << "gate-node sync: cannot check sshd's configuration: "
              << effective.error().ToString() << "\n";
    return true;
  }
  for (const std::string& warning : effective->warnings) {
    std::cerr << "gate-node sync: warning: " << warning << "\n";
  }
  if (effective->bypasses.empty()) return false;
  std::cerr << "gate-node sync: WARNING: sshd's configuration overrides gate's; certificates, "
               "revocations or locks are not enforced as the cache says:\n"
            << hooks::DescribeBypasses(effective->bypasses);
  return true;
}

class SyncCommand final : public cli::Command {
 public:
  void Define(CLI::App& sub) override {
    paths_.Define(sub);
    sub.add_option("--max-cache-age", max_age_text_,
                   "Warn loudly, on every run, once the last successful sync is older than\n"
                   "this (default: the node's, set by gate-node join --max-cache-age; 10m)");
    sub.add_option("--every", every_text_,
                   "Keep running and sync every DURATION (e.g. 30s) over one kept-open\n"
                   "connection to gate-ca, until SIGTERM or SIGINT (gate-node-syncd.service)");
    sub.add_option("--runs", runs_, "With --every: stop after this many syncs (default: never)")
        ->check(CLI::PositiveNumber);
    sub.footer(
        "Fetches this node's policy cache from gate-ca (GET /v1/nodes/policy, authenticated\n"
        "with the node credentials in node.json) and installs it: policy.db, user_ca.pub and\n"
        "revoked.krl in the cache directory. It asks only for what changed since the cache's\n"
        "policy revision: nothing is written when nothing changed, a delta is applied to the\n"
        "cached snapshot, and a node without a usable revision fetches the whole policy in\n"
        "pages (docs/node-protocol.md, \"Sync\"). Locks and revocations always come whole.\n"
        "Everything is validated before anything is written,\n"
        "and each file is replaced atomically; if anything fails the last good copy stays and\n"
        "the exit status is non-zero. gate-principals and sshd read the cache on every login,\n"
        "so no reload is needed for it.\n"
        "When less than a third of the host certificate's lifetime remains (or it is missing or\n"
        "invalid), a new one is requested (POST /v1/nodes/host-cert), written, the sshd\n"
        "configuration checked with sshd -t and sshd reloaded.\n"
        "Each sync also asks sshd (sshd -T, and -T -C for each Match block) whether it still\n"
        "runs with gate's drop-in; a setting read before it or a Match block that overrides\n"
        "it is reported with its file and line, and the sync then exits non-zero after\n"
        "updating the cache, so the timer's unit shows as failed.\n"
        "Each run records when it tried, when it last succeeded and why it failed in\n"
        "DATA_DIR/sync-status.json (gate-node status shows it), and each success (a changed\n"
        "policy or an unchanged one) in the cache's synced-at stamp, from which gate-principals\n"
        "measures the cache's age. Once the last success is older than --max-cache-age, every\n"
        "run says loudly that locks and revocations made since are not enforced here. Logins\n"
        "keep being decided from the last good cache, unless the node was joined with\n"
        "--stale-cache deny: then gate-principals refuses every login until a sync succeeds.\n"
        "Prints one line saying what changed. Never prints or logs the node secret.\n"
        "With --every, one process syncs at that interval and keeps its connection to\n"
        "gate-ca open between syncs (HTTP keep-alive; a connection gate-ca closed is\n"
        "reopened with TLS session resumption), which costs gate-ca about half the CPU of\n"
        "a new connection per sync (docs/node-protocol.md, \"Connections\"). node.json is\n"
        "read again before every sync (a node that left stops with an error); a failed sync\n"
        "is reported and the next one still runs. The exit status is the last sync's, or 0\n"
        "after SIGTERM/SIGINT.\n\n" +
        std::string(kNodeFilesHelp));
  }

  int Run() override {
    if (Status s = RequireRoot(); !s.ok()) return cli::Fail(kTool, s);
    if (!max_age_text_.empty()) {
      auto max_age = ParseDuration(max_age_text_);
      if (!max_age) return cli::Fail(kTool, max_age.error().WithContext("--max-cache-age"));
      max_age_ = *max_age;
    }
    if (every_text_.empty()) {
      if (runs_ != 0) return cli::Fail(kTool, InvalidArgument("--runs needs --every"));
      auto state = ReadJoinedNode(paths_.data_dir);
      if (!state) return cli::Fail(kTool, state.error());
      return SyncOnce(*state, nullptr);
    }
    auto every = ParseDuration(every_text_);
    if (!every) return cli::Fail(kTool, every.error().WithContext("--every"));
    return SyncEvery(*every);
  }

 private:
  // Syncs every `every` until SIGTERM/SIGINT (exit 0) or runs_ syncs (the
  // last one's exit status). The signals are blocked and waited for with
  // sigtimedwait, so one arriving mid-sync ends the loop after that sync,
  // never in the middle of installing the cache.
  int SyncEvery(std::chrono::seconds every) {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    if (sigprocmask(SIG_BLOCK, &stop, nullptr) != 0) {
      return cli::Fail(kTool, Internal("cannot block SIGTERM/SIGINT"));
    }
    // One pool for the whole run: libcurl keeps the connection open between
    // syncs and keeps the TLS session to resume one gate-ca closed.
    const std::shared_ptr<HttpConnectionPool> pool = NewHttpConnectionPool();
    if (!pool) return cli::Fail(kTool, Internal("cannot set up the connection pool"));
    for (int run = 1;; ++run) {
      // Read each time: a node that left (or joined another gate-ca) stops.
      auto state = ReadJoinedNode(paths_.data_dir);
      if (!state) return cli::Fail(kTool, state.error());
      const int rc = SyncOnce(*state, pool);
      // Each sync's lines reach the journal (or a pipe) as it ends, not when
      // the buffer fills hours later.
      std::cout.flush();
      if (runs_ != 0 && run >= runs_) return rc;
      timespec wait{static_cast<time_t>(every.count()), 0};
      int signal_number;
      while ((signal_number = sigtimedwait(&stop, nullptr, &wait)) < 0 && errno == EINTR) {
      }
      if (signal_number > 0) return cli::kExitOk;
    }
  }

  // One sync, as the timer's run does it; pool: connections to reuse, or
  // null for a connection of its own.
  int SyncOnce(const NodeState& state, const std::shared_ptr<HttpConnectionPool>& pool) {
    hooks::StalenessRule rule = NodeStaleness(state);
    if (max_age_) rule.max_age = *max_age_;
    HttpClientOptions options = NodeClientOptions(state);
    options.connection_pool = pool;
    const HttpClient client = CurlHttpClient(std::move(options));
    const std::int64_t now = Now();
    const SyncOutcome outcome = SyncNode(paths_, state, client, now);
    RecordAttempt(outcome, now, rule);

    std::string line = outcome.Describe();
    Status reload;
    if (outcome.host_cert_written) {
      const hooks::ReloadMethod method = paths_.Reload();
      reload = CheckAndReload(paths_, method);
      if (reload.ok()) line += "; " + ReloadNote(method);
    }
    std::cout << "gate-node sync: " << line << "\n";
    // After every install, changed or not: a session that slipped in
    // between a lock and the last pass is caught by the next one.
    if (outcome.cache_status.ok()) (void)EndSessionsAfterSync(paths_, outcome.installed, now);
    ShipRefusedLogins(paths_, client);
    const bool drift = ReportDrift(paths_, state);
    if (!outcome.ok()) return cli::Fail(kTool, outcome.status());
    if (!reload.ok()) {
      return cli::Fail(kTool,
                       reload.WithContext("new host certificate written, sshd not reloaded"));
    }
    if (drift) {
      return cli::Fail(kTool, FailedPrecondition("the cache is up to date, but sshd does not run "
                                                 "with gate's settings (see above)"));
    }
    return cli::kExitOk;
  }

  // sync-status.json and the sync stamp, and the loud warning once the
  // cache is stale. A failure to record is reported, never fatal: under
  // stale_cache deny, logins stop once the stamp is too old, and the
  // message says why.
  void RecordAttempt(const SyncOutcome& outcome, std::int64_t now,
                     const hooks::StalenessRule& rule) {
    auto recorded =
        RecordSyncAttempt(paths_.data_dir, paths_.CacheDir(), outcome.cache_status, now);
    if (!recorded) {
      std::cerr << "gate-node sync: cannot record this sync: " << recorded.error().ToString()
                << "\n";
    }
    // The age gate-principals sees: the stamp, else what sync-status.json says.
    CacheLocation cache;
    cache.dir = paths_.CacheDir();
    auto stamp = ReadSyncStamp(cache);
    const std::int64_t last_good = stamp ? *stamp : recorded ? recorded->succeeded_at : 0;
    if (const std::string stale = StalenessWarning(last_good, now, rule.max_age); !stale.empty()) {
      std::cerr << "gate-node sync: WARNING: " << stale
                << (rule.mode == hooks::StaleCache::kDeny
                        ? "; stale_cache is deny: every gate login on this node is refused"
                        : "")
                << "\n";
    }
  }

  NodePaths paths_;
  std::string max_age_text_;                     // empty: the node's own (node.json)
  std::optional<std::chrono::seconds> max_age_;  // parsed --max-cache-age
  std::string every_text_;
  int runs_ = 0;
};

}  // namespace

std::unique_ptr<cli::Command> MakeSyncCommand() { return std::make_unique<SyncCommand>(); }

}  // namespace gate::node
