// gate-node join: enroll this host in a gate cluster, once, as root.
//
// Order matters because the join token is single use: everything that can
// be checked locally (flags, host key, the gate-principals path sshd will
// insist on, the current sshd configuration) is checked before the token is
// spent; node.json is written right after, so a join that fails later can
// simply be run again and continues as a re-sync.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "gate/certificate.h"
#include "gate/config.h"
#include "gate/curl_http.h"
#include "gate/duration.h"
#include "gate/exit_code.h"
#include "gate/json.h"
#include "gate/node_cache.h"
#include "gate/proxy_flags.h"
#include "gate/refusal_spool.h"
#include "gate/secure_file.h"
#include "sshd-hooks/node/commands.h"
#include "sshd-hooks/node/effective_config.h"
#include "sshd-hooks/node/host_cert.h"
#include "sshd-hooks/node/host_principals.h"
#include "sshd-hooks/node/join_files.h"
#include "sshd-hooks/node/join_token.h"
#include "sshd-hooks/node/record_setup.h"
#include "sshd-hooks/node/refusal_shipper.h"
#include "sshd-hooks/node/safe_path.h"
#include "sshd-hooks/node/ssh_address.h"
#include "sshd-hooks/node/sync_status.h"
#include "sshd-hooks/node/syncer.h"
#include "sshd-hooks/node/system_user.h"
#include "sshd-hooks/principals/drop_in.h"

namespace gate::node {
namespace {

constexpr char kTool[] = "gate-node join";

bool VisibleAscii(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// Everything the join needs, validated before the token is spent.
struct Plan {
  std::string proxy;  // host:port
  policy::Labels labels;
  std::vector<std::string> principals;
  std::string ssh_address;  // canonical HOST:PORT gate-ca reaches sshd at
  hooks::DropInSettings drop_in;
  ssh::Ed25519PublicKey host_key;
};

class JoinCommand final : public cli::Command {
 public:
  void Define(CLI::App& sub) override {
    sub.add_option("--proxy", proxy_.proxy, "gate-ca's address, HOST[:PORT] (port 3080 if omitted)")
        ->required();
    sub.add_option("--token-file", token_file_,
                   "Read the single-use join token (gatectl tokens add --type=node) from FILE\n"
                   "(root, chmod 600), or from standard input with -. Without it: from\n"
                   "$GATE_NODE_TOKEN, else asked for at a prompt");
    // Refused with an explanation (see Run), never used.
    sub.add_option("--token", argv_token_)->group("");
    sub.add_option("--ca-pin", proxy_.ca_pin,
                   "Trust gate-ca's TLS key with this SubjectPublicKeyInfo hash (sha256:<hex>, as "
                   "gatectl tokens add prints it)");
    sub.add_flag("--insecure", proxy_.insecure,
                 "Do not verify gate-ca's TLS certificate at all (testing only)");
    sub.add_option("--labels", labels_,
                   "Node labels k=v,k2=v2, matched by roles' node_labels (the token's labels win "
                   "on conflict)");
    sub.add_option("--hostname", hostname_,
                   "The name this node registers as, and its host certificate's first name\n"
                   "(default: the system's host name); unique in the cluster");
    sub.add_option("--principals", principals_,
                   "Other host names a,b this node must have on its host certificate (names or\n"
                   "addresses clients use); the join fails unless the token approves them");
    sub.add_option("--ssh-address", ssh_address_,
                   "Where gate-ca reaches this node's sshd for terminals and live joins in the\n"
                   "browser, HOST[:PORT] (default: sshd's listen address when it listens on one\n"
                   "specific address, else the hostname on sshd's port; both from sshd -T)");
    sub.add_flag("--force", force_,
                 "Join even when this host's sshd configuration overrides gate's settings\n"
                 "(reported loudly; the listed lines still bypass gate)");
    sub.add_option("--stale-cache", stale_cache_,
                   "allow or deny: what gate-principals does with logins once the policy cache\n"
                   "is older than --max-cache-age (no successful sync since). allow (default):\n"
                   "decide from it and log a warning; deny: refuse every login until a sync\n"
                   "succeeds. Kept in node.json: a later join without it keeps the choice");
    sub.add_option("--max-cache-age", max_age_text_,
                   "How old the last successful sync may be before the cache is stale (default\n"
                   "10m; kept in node.json like --stale-cache)");
    sub.add_flag("--record", record_,
                 "Also turn session recording on for every session, as `gate-node record on` "
                 "does (see its --help)");
    paths_.Define(sub);
    sub.footer(
        "Enrolls this host in a gate cluster. Run once, as root, with a token from\n"
        "`gatectl tokens add --type=node`, pasted when asked:\n"
        "  gate-node join --proxy grav-00:3080 --ca-pin sha256:...\n"
        "  Paste the node join token: ...\n"
        "The token is never taken from the command line (every local user can read it\n"
        "there, and spend it first): give it at the prompt, with --token-file FILE or -,\n"
        "or in the GATE_NODE_TOKEN environment variable.\n\n"
        "Host names are gate-ca's decision: the host certificate names this host's name\n"
        "plus those an admin approved (gatectl tokens add --principals, or gatectl nodes\n"
        "update), and a name belongs to one node. --principals only states what this node\n"
        "expects; a name the token does not approve fails the join (the token stays\n"
        "usable).\n\n"
        "Steps: checks the flags, the host key (ssh_host_ed25519_key.pub), the gate-principals\n"
        "path and the current sshd configuration; reads the token; registers (POST\n"
        "/v1/nodes/join) with the host name and --principals; writes\n"
        "node.json (root 0600: proxy, TLS pin, host UUID, node secret, labels) and the host\n"
        "certificate (ssh_host_ed25519_key-cert.pub); syncs the policy cache exactly as\n"
        "gate-node sync does; creates the --principals-user account if missing; writes the sshd\n"
        "drop-in 50-gate.conf (TrustedUserCAKeys, RevokedKeys, HostCertificate,\n"
        "AuthorizedPrincipalsCommand, AuthorizedPrincipalsCommandUser, ExposeAuthInfo) and checks\n"
        "the whole configuration with sshd -t -f --sshd-config. If sshd rejects it, the previous\n"
        "drop-in is restored (or removed) and sshd's error printed. Otherwise sshd is reloaded if\n"
        "the drop-in or the host certificate changed.\n\n"
        "Idempotent: when node.json already exists for the same proxy the token is not used\n"
        "again; join prints \"already joined as <uuid>\", re-syncs and rewrites only what "
        "changed.\n"
        "Files replaced by the first join are saved under DATA_DIR/pre-join and put back by\n"
        "gate-node leave.\n\n"
        "Stale cache: gate-node sync refreshes the cache every 30 s. When it cannot (gate-ca\n"
        "down, the network cut), the node keeps deciding from its last good copy, in which\n"
        "users locked and certificates revoked since are not known. --stale-cache deny makes\n"
        "gate-principals refuse every login once the last successful sync is older than\n"
        "--max-cache-age, so nobody logs in (admins included) until gate-ca is back; the\n"
        "default, allow, keeps logins working and logs a warning for each. Both are written\n"
        "into the drop-in's AuthorizedPrincipalsCommand and kept in node.json; run join again\n"
        "with other values to change them (the token is not needed again).\n\n"
        "The cache is readable only by root and the group gate-cache (created if missing,\n"
        "with the --principals-user account in it): the directory is root:gate-cache 0750,\n"
        "its files 0640.\n\n"
        "--record also sets up the session recorder and adds ForceCommand to the drop-in\n"
        "before sshd -t, exactly as `gate-node record on` (its recorder path flags apply; the\n"
        "recorder is checked before the token is spent). Without --record, a node where\n"
        "record on ran keeps its recording as DATA_DIR/record.json describes it.\n\n" +
        std::string(kNodeFilesHelp));
  }

  int Run() override {
    if (!argv_token_.empty()) {
      return cli::Fail(kTool,
                       InvalidArgument("the join token must not be given on the command line, "
                                       "where every local user can read it (ps, "
                                       "/proc/PID/cmdline) and join a node of their own with it "
                                       "first; it was not used. Paste it when asked, or use "
                                       "--token-file FILE (chmod 600) or GATE_NODE_TOKEN"));
    }
    if (Status s = RequireRoot(); !s.ok()) return cli::Fail(kTool, s);
    std::optional<hooks::StaleCache> stale_mode;
    if (!stale_cache_.empty()) {
      auto mode = hooks::ParseStaleCache(stale_cache_);
      if (!mode) return cli::Fail(kTool, mode.error().WithContext("--stale-cache"));
      stale_mode = *mode;
    }
    std::optional<std::chrono::seconds> max_age;
    if (!max_age_text_.empty()) {
      auto age = ParseDuration(max_age_text_);
      if (!age) return cli::Fail(kTool, age.error().WithContext("--max-cache-age"));
      max_age = *age;
    }
    auto plan = Prepare();
    if (!plan) return cli::Fail(kTool, plan.error());

    NodeState state;
    bool host_cert_written = false;
    auto existing = ReadNodeState(paths_.NodeStatePath());
    if (existing) {
      if (existing->proxy != plan->proxy) {
        return cli::Fail(
            kTool, FailedPrecondition("this node is already joined to " + existing->proxy + " as " +
                                      existing->host_uuid + "; run gate-node leave first"));
      }
      state = std::move(*existing);
      std::cout << "already joined as " << state.host_uuid << "\n";
      if (!labels_.empty() || !principals_.empty() || !hostname_.empty() || !ssh_address_.empty()) {
        std::cerr << "note: --labels, --hostname, --principals and --ssh-address only apply to a "
                     "first join; an admin changes host names and the ssh address with gatectl "
                     "nodes update, labels by a new join\n";
      }
    } else if (existing.error().code() != Code::kNotFound) {
      return cli::Fail(kTool, existing.error().WithContext("cannot read the node state"));
    } else {
      auto registered = Register(*plan, host_cert_written);
      if (!registered) return cli::Fail(kTool, registered.error());
      state = std::move(*registered);
    }

    if (stale_mode || max_age) {
      if (stale_mode) state.deny_stale_cache = *stale_mode == hooks::StaleCache::kDeny;
      if (max_age) state.max_cache_age_seconds = max_age->count();
      if (Status s = WriteNodeState(paths_.NodeStatePath(), state); !s.ok()) {
        return cli::Fail(kTool, s);
      }
    }
    plan->drop_in.staleness = NodeStaleness(state);

    // The cache's readers' group must exist before the cache is written.
    auto group_created = EnsureSystemGroup(std::string(kCacheGroup));
    if (!group_created) return cli::Fail(kTool, group_created.error());
    if (*group_created) {
      summary_ += "  created   group " + std::string(kCacheGroup) +
                  "  (root and this group may read the policy cache)\n";
      state.created_cache_group = true;
      if (Status s = WriteNodeState(paths_.NodeStatePath(), state); !s.ok()) {
        return cli::Fail(kTool, s);
      }
    }

    // The cache must be in place before the drop-in points sshd at it.
    const HttpClient client = CurlHttpClient(NodeClientOptions(state));
    const std::int64_t now = Now();
    const SyncOutcome sync = SyncNode(paths_, state, client, now);
    if (!sync.ok()) return cli::Fail(kTool, sync.status());
    if (auto recorded =
            RecordSyncAttempt(paths_.data_dir, paths_.CacheDir(), sync.cache_status, now);
        !recorded) {
      return cli::Fail(kTool, recorded.error());
    }
    host_cert_written = host_cert_written || sync.host_cert_written;
    Report("cache", paths_.CacheDir() + "/",
           sync.cache.policy_written || sync.cache.user_ca_written || sync.cache.krl_written,
           "policy.db, user_ca.pub, revoked.krl, synced-at; root:" + std::string(kCacheGroup) +
               " 0640");
    Report("host certificate", paths_.HostCertPath(), host_cert_written,
           "valid until " + hooks::FormatUnixTime(sync.host_cert_valid_before));

    auto created = EnsureSystemUser(plan->drop_in.principals_user);
    if (!created) return cli::Fail(kTool, created.error());
    auto member = EnsureGroupMember(plan->drop_in.principals_user, std::string(kCacheGroup));
    if (!member) return cli::Fail(kTool, member.error());
    if (*member) {
      summary_ += "  added     " + plan->drop_in.principals_user + " to group " +
                  std::string(kCacheGroup) + "  (so gate-principals reads the cache)\n";
    }
    if (Status s =
            EnsureRefusalSpool(RefusalSpoolDir(paths_.CacheDir()), plan->drop_in.principals_user);
        !s.ok()) {
      return cli::Fail(kTool, s);
    }
    if (*created) {
      summary_ += "  created   " + plan->drop_in.principals_user +
                  "  (system user sshd runs gate-principals as)\n";
      if (state.created_principals_user.empty()) {
        state.created_principals_user = plan->drop_in.principals_user;
        if (Status s = WriteNodeState(paths_.NodeStatePath(), state); !s.ok()) {
          return cli::Fail(kTool, s);
        }
      }
    }

    // The recorder's files (and its key's registration) come before the
    // drop-in that makes sshd run it.
    auto record = LoadRecordState(paths_);
    if (!record) return cli::Fail(kTool, record.error());
    if (record_) {
      std::vector<std::string> notes;
      auto set_up = SetUpRecorder(paths_, state, RecordOptions{}, *record, client, &notes);
      for (const std::string& note : notes) summary_ += "  " + note + "\n";
      if (!set_up) {
        std::cout << summary_;
        return cli::Fail(kTool, set_up.error().WithContext("recording not turned on"));
      }
      *record = std::move(*set_up);
    }
    if (*record) {
      const hooks::DropInSettings with_recorder = NodeDropIn(paths_, state, &**record);
      plan->drop_in.record_command = with_recorder.record_command;
      plan->drop_in.record_config = with_recorder.record_config;
      plan->drop_in.record_all_sessions = with_recorder.record_all_sessions;
    }

    // What sshd will really do, with the drop-in in place: a host setting
    // read first, or a Match block, must not quietly undo gate's.
    hooks::EffectiveConfig effective;
    auto drop_in_changed =
        InstallDropIn(paths_, hooks::RenderDropIn(plan->drop_in), [&]() -> Status {
          auto checked =
              hooks::CheckEffectiveConfig(paths_.sshd_binary, paths_.sshd_config, paths_.ssh_dir,
                                          paths_.DropInPath(), plan->drop_in);
          if (!checked) return checked.error().WithContext("checking sshd -T");
          effective = *std::move(checked);
          if (effective.bypasses.empty() || force_) return Status::Ok();
          return FailedPrecondition(
              "this host's sshd configuration overrides gate's, so certificates, revocations "
              "or locks would not be enforced:\n" +
              hooks::DescribeBypasses(effective.bypasses) +
              "Change those lines and run gate-node join again (the token is not needed again), "
              "or add --force to join anyway");
        });
    if (!drop_in_changed) return cli::Fail(kTool, drop_in_changed.error());
    for (const std::string& warning : effective.warnings) {
      std::cerr << "warning: " << warning << "\n";
    }
    if (!effective.bypasses.empty()) {
      std::cerr << "WARNING: joined with --force, but gate is bypassed on this node:\n"
                << hooks::DescribeBypasses(effective.bypasses);
    }
    if (record_) {
      if (Status s = hooks::WriteRecordState(paths_.RecordStatePath(), **record); !s.ok()) {
        return cli::Fail(kTool, s);
      }
    }
    Report("sshd drop-in", paths_.DropInPath(), *drop_in_changed,
           std::string("checked with sshd -t and sshd -T") +
               (plan->drop_in.record_all_sessions
                    ? "; ForceCommand " + hooks::RecordCommandOf(plan->drop_in)
                    : ""));

    const hooks::ReloadMethod method = paths_.Reload();
    std::string reload_note = "sshd not reloaded (nothing it reads at start-up changed)";
    if (*drop_in_changed || host_cert_written) {
      if (Status s = hooks::ReloadSshd(method); !s.ok()) {
        return cli::Fail(kTool, s.WithContext("the node is configured but sshd was not reloaded"));
      }
      reload_note = ReloadNote(method);
    }

    std::cout << "Node " << state.host_uuid << " is in cluster "
              << (state.cluster_name.empty() ? state.proxy : state.cluster_name) << " via "
              << state.proxy << ".\n"
              << summary_ << reload_note << ".\n";
    return cli::kExitOk;
  }

 private:
  void Report(const std::string& what, const std::string& path, bool written,
              const std::string& note) {
    summary_ += "  " + std::string(written ? "wrote     " : "unchanged ") + path + "  (" + what +
                (note.empty() ? "" : ": " + note) + ")\n";
  }

  Result<Plan> Prepare() {
    Plan plan;
    auto proxy = cli::NormalizeProxy(proxy_.proxy);
    if (!proxy) return Err(proxy.error());
    plan.proxy = *proxy;
    if (proxy_.insecure && !proxy_.ca_pin.empty()) {
      return Err(InvalidArgument("use either --insecure or --ca-pin, not both"));
    }
    if (!proxy_.ca_pin.empty()) {
      if (auto pin = PinToCurl(proxy_.ca_pin); !pin)
        return Err(pin.error().WithContext("--ca-pin"));
    }
    if (!labels_.empty()) {
      auto labels = policy::ParseLabels(labels_);
      if (!labels) return Err(labels.error().WithContext("--labels"));
      // ParseLabels also reads role selectors, where "*" is a wildcard; a
      // node's own labels are plain values (gate-ca refuses "*", 400).
      for (const auto& [name, value] : *labels) {
        if (name == "*" || value == "*") {
          return Err(InvalidArgument("--labels: '*' is for role selectors, not node labels"));
        }
      }
      plan.labels = std::move(*labels);
    }
    std::vector<std::string> extra;
    if (!principals_.empty()) {
      auto parsed = hooks::ParseHostPrincipals(principals_);
      if (!parsed) return Err(parsed.error().WithContext("--principals"));
      extra = std::move(*parsed);
    }
    auto hostname = hostname_.empty() ? hooks::LocalHostname() : Result<std::string>(hostname_);
    if (!hostname) return Err(hostname.error());
    auto principals = hooks::MergeHostPrincipals(*hostname, extra);
    if (!principals) return Err(principals.error());
    plan.principals = std::move(*principals);

    GATE_RETURN_IF_ERROR(hooks::ValidateConfigPath("--data-dir", paths_.data_dir));
    GATE_RETURN_IF_ERROR(hooks::ValidateConfigPath("--ssh-dir", paths_.ssh_dir));
    plan.drop_in.cache_dir = paths_.CacheDir();
    plan.drop_in.host_certificate = paths_.HostCertPath();
    plan.drop_in.principals_command = paths_.principals_command;
    plan.drop_in.principals_user = paths_.principals_user;
    GATE_RETURN_IF_ERROR(hooks::ValidateDropIn(plan.drop_in));
    GATE_RETURN_IF_ERROR(hooks::CheckSshdSafeExecutable(paths_.principals_command));
    if (record_) GATE_RETURN_IF_ERROR(CheckRecordFlags(paths_, RecordOptions{}));

    struct stat st {};
    if (::stat(paths_.sshd_config_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return Err(NotFound(paths_.sshd_config_dir + " is not a directory; create it and make sure " +
                          paths_.sshd_config + " has `Include " + paths_.sshd_config_dir +
                          "/*.conf` near the top"));
    }
    auto host_key = hooks::ReadHostPublicKey(paths_.HostKeyPath());
    if (!host_key) return Err(host_key.error());
    plan.host_key = std::move(*host_key);
    // A configuration that is already broken would make our check below
    // blame the drop-in; say so before spending the token.
    GATE_RETURN_IF_ERROR(hooks::TestSshdConfig(paths_.sshd_binary, paths_.sshd_config)
                             .WithContext("before any change"));
    if (!ssh_address_.empty()) {
      auto address = CanonicalSshAddress(ssh_address_);
      if (!address) return Err(address.error().WithContext("--ssh-address"));
      plan.ssh_address = *std::move(address);
    } else {
      auto settings = hooks::RunSshdT(paths_.sshd_binary, paths_.sshd_config);
      if (!settings) return Err(settings.error());
      plan.ssh_address = hooks::DefaultSshAddress(*settings, plan.principals.front());
    }
    return plan;
  }

  // POST /v1/nodes/join, then the node's own files: node.json first, so a
  // failure after this point is recoverable by running join again.
  Result<NodeState> Register(const Plan& plan, bool& host_cert_written) {
    NodeState state;
    state.proxy = plan.proxy;
    state.insecure = proxy_.insecure;
    state.ca_pin = proxy_.ca_pin;
    state.principals = plan.principals;
    state.created_data_dir = !Exists(paths_.data_dir);
    GATE_RETURN_IF_ERROR(EnsureDataDir(paths_.data_dir));

    auto options = cli::ProxyClientOptions(proxy_);
    if (!options) return Err(options.error());
    auto token = ReadJoinToken(token_file_);
    if (!token) {
      if (state.created_data_dir) ::rmdir(paths_.data_dir.c_str());
      return Err(token.error());
    }
    Json::Value body(Json::objectValue);
    body["token"] = std::string(token->view());
    body["hostname"] = plan.principals.front();
    body["host_key"] = plan.host_key.AuthorizedKey();
    body["principals"] = json::StringArray(plan.principals);
    body["ssh_address"] = plan.ssh_address;
    Json::Value labels(Json::objectValue);
    for (const auto& [k, v] : plan.labels) labels[k] = v;
    body["labels"] = labels;
    auto reply = CurlHttpClient(*options).Call("POST", "/v1/nodes/join", &body);
    if (!reply) {
      if (state.created_data_dir) ::rmdir(paths_.data_dir.c_str());
      return Err(reply.error().WithContext("join refused"));
    }
    GATE_RETURN_IF_ERROR(ParseJoinReply(*reply, plan, state));

    const std::string line = (*reply)["host_certificate"].asString();
    GATE_RETURN_IF_ERROR(BackUpPreJoinFiles(paths_, state));
    GATE_RETURN_IF_ERROR(WriteNodeState(paths_.NodeStatePath(), state));
    Report("node identity", paths_.NodeStatePath(), true, "root 0600");
    auto wrote = WriteIfChanged(paths_.HostCertPath(), line);
    if (!wrote) return Err(wrote.error());
    host_cert_written = *wrote;
    return state;
  }

  static Status ParseJoinReply(const Json::Value& reply, const Plan& plan, NodeState& state) {
    auto uuid = json::GetString(reply, "host_uuid");
    if (!uuid) return uuid.error().WithContext("join reply");
    auto secret = json::GetString(reply, "node_secret");
    if (!secret) return secret.error().WithContext("join reply");
    if (!VisibleAscii(*uuid) || uuid->size() > 64 || uuid->find('.') != std::string::npos ||
        !VisibleAscii(*secret) || secret->size() > 256) {
      return InvalidArgument("join reply: malformed host_uuid or node_secret");
    }
    state.host_uuid = *uuid;
    state.node_secret = SecretString(*secret);
    auto cluster = json::OptionalString(reply, "cluster_name");
    if (!cluster) return cluster.error().WithContext("join reply");
    state.cluster_name = *cluster;
    state.labels = plan.labels;
    if (reply.isMember("labels")) {
      const Json::Value& labels = reply["labels"];
      if (!labels.isObject()) return InvalidArgument("join reply: labels must be an object");
      state.labels.clear();
      for (const auto& name : labels.getMemberNames()) {
        if (!labels[name].isString()) return InvalidArgument("join reply: bad label " + name);
        state.labels[name] = labels[name].asString();
      }
    }
    auto line = json::GetString(reply, "host_certificate");
    if (!line) return line.error().WithContext("join reply");
    auto cert = ssh::ParseCertificateLine(*line);
    if (!cert) return cert.error().WithContext("join reply: host_certificate");
    return hooks::CheckHostCertificate(*cert, plan.host_key, Now())
        .WithContext("join reply: unusable host certificate");
  }

  cli::ProxyFlags proxy_;
  std::string token_file_;
  std::string argv_token_;
  std::string labels_;
  std::string hostname_;
  std::string principals_;
  std::string ssh_address_;
  std::string stale_cache_;
  std::string max_age_text_;
  bool record_ = false;
  bool force_ = false;
  NodePaths paths_;
  std::string summary_;
};

}  // namespace

std::unique_ptr<cli::Command> MakeJoinCommand() { return std::make_unique<JoinCommand>(); }

}  // namespace gate::node
