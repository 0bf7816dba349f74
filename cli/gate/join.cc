// gate join ID [--mode observer|peer] [--run-dir DIR]
// gate join --node HOST[:PORT] | --proxy HOST[:PORT] [--login LOGIN] ID [--mode M]
// gate join ID, from a workstation: through the profile's gate-ca, as --proxy
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "cli/common/profile.h"
#include "cli/common/session_api.h"
#include "cli/gate/commands.h"
#include "gate/exit_code.h"
#include "gate/join_client.h"
#include "gate/join_protocol.h"
#include "gate/names.h"
#include "gate/proxy_flags.h"
#include "gate/recorder_settings.h"

namespace gate::cli {
namespace {

using recorder::JoinMode;

// Where this node's recorders keep live sessions: the run_dir of the
// recorder settings gate-record runs with (it names them in
// GATE_RECORDER_CONFIG for the session; /etc/gate/recorder.json otherwise),
// else the default. Only where to connect is decided here; who may join is
// the recorder's decision.
std::string NodeRunDir() {
  const char* config = std::getenv("GATE_RECORDER_CONFIG");
  const std::string path =
      config != nullptr && *config != '\0' ? config : std::string(recorder::kDefaultSettingsPath);
  auto settings = recorder::LoadSettings(path);
  return settings ? settings->run_dir : std::string(recorder::kDefaultRunDir);
}

// "node-1", "node-1:2222", "[::1]:2222" -> host and optional port. The host
// becomes an ssh argument: no option-looking or odd characters.
Result<std::pair<std::string, std::string>> ParseNode(const std::string& node) {
  std::string host = node;
  std::string port;
  if (!host.empty() && host.front() == '[') {
    const std::size_t close = host.find(']');
    if (close == std::string::npos) return Err(InvalidArgument("--node: unbalanced '['"));
    const std::string rest = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return Err(InvalidArgument("--node: expected :PORT after ']'"));
      port = rest.substr(1);
    }
  } else if (const std::size_t colon = host.rfind(':'); colon != std::string::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  bool ok = !host.empty() && host.front() != '-' && host.size() <= 253;
  for (char c : host) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '-' || c == '_' || c == ':');
  }
  if (!ok) return Err(InvalidArgument("--node: '" + node + "' is not HOST[:PORT]"));
  if (!port.empty()) {
    int value = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || value > 65535) return Err(InvalidArgument("--node: bad port"));
      value = value * 10 + (c - '0');
    }
    if (value < 1 || value > 65535) return Err(InvalidArgument("--node: bad port"));
  }
  return std::pair{host, port};
}

class JoinCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    sub.add_option("ID", id_, "The session to join (its UUID, as gate-record shows it)")
        ->required();
    sub.add_option("--mode", mode_name_,
                   "observer (watch only; the default) or peer (watch and type)")
        ->check(CLI::IsMember({"observer", "peer"}));
    sub.add_option("--run-dir", run_dir_,
                   std::string("Where the node's recorders keep live sessions (default: the "
                               "run_dir of the recorder settings, else ") +
                       std::string(recorder::kDefaultRunDir) + ")");
    sub.add_option("--node", node_,
                   "Join a session on another node: ssh there (HOST[:PORT]) with your gate "
                   "certificate and run gate join on it");
    sub.add_option("--proxy", flags_.proxy,
                   "Join from your workstation: ask gate-ca (HOST[:PORT], default: your "
                   "profile's) which node the live session runs on, then do what --node does");
    sub.add_flag("--insecure", flags_.insecure,
                 "With --proxy: do not verify gate-ca's TLS certificate (testing only)");
    sub.add_option("--ca-pin", flags_.ca_pin, "With --proxy: trust gate-ca by this SPKI pin");
    sub.add_option("--login", login_,
                   "With --node: the OS login to ssh as (default: the first login of your "
                   "gate profile)");
    sub.add_option("--node-gate", node_gate_,
                   "With --node: the gate program on the node (default: gate, from the "
                   "login's PATH)");
    sub.footer(
        "Attaches your terminal to a live recorded session on this node: you see what the\n"
        "session's terminal shows, starting with its recent output, and, as a peer, type\n"
        "into it. Press Ctrl-] to leave (in both modes; it is never sent to the session).\n"
        "Observers' keystrokes are not sent anywhere.\n\n"
        "gate join must itself run inside a recorded session on the node (an ssh login that\n"
        "gate-record records): the recorder identifies you by that session's Gate user, and\n"
        "lets you in only if one of your roles has join_sessions and matches the node's\n"
        "labels. Everyone in the session sees \"[gate] bob joined as observer\", and the\n"
        "recording notes each join and leave. The socket is RUN_DIR/ID.sock; RUN_DIR is\n"
        "the run_dir of the recorder settings gate-record names in GATE_RECORDER_CONFIG\n"
        "(else /etc/gate/recorder.json), unless --run-dir says otherwise.\n\n"
        "From your workstation, plain \"gate join ID\" (outside a recorded session, logged in\n"
        "with gate login) asks your profile's gate-ca which node runs the session and does what\n"
        "--proxy does. On a recording node the recorder itself serves that ssh request: it\n"
        "decides on the Gate certificate sshd verified, and gate need not be installed there.\n"
        "--node does the ssh for you:\n"
        "  gate join --node db-1 --login alice 3f1c...   runs\n"
        "  ssh -t -i ~/.gate/keys/PROXY/USER/key \\\n"
        "      -o CertificateFile=~/.gate/keys/PROXY/USER/key-cert.pub \\\n"
        "      -o UserKnownHostsFile=~/.gate/known_hosts -l alice db-1 gate join --mode M ID\n"
        "(PROXY/USER: your current profile, as gate status shows it).\n"
        "--proxy asks gate-ca where the live session runs (the name its node joined with)\n"
        "and then does the same: gate join --proxy grav-00:3080 3f1c...\n\n"
        "Exit status: 0 the session ended (\"session ended (exit status N)\") or you left;\n"
        "1 the connection was lost; 2 usage error; 3 refused (the reason is printed);\n"
        "4 ssh could not be run; 5 no such live session on this node.");
  }

  int Run() override {
    if (Status s = recorder::ValidateSessionId(id_); !s.ok()) return Fail("gate join", s);
    auto mode = recorder::ParseJoinMode(mode_name_);
    if (!mode) return Fail("gate join", mode.error());
    if (!flags_.proxy.empty() || flags_.insecure || !flags_.ca_pin.empty() || FromWorkstation()) {
      if (!node_.empty())
        return Fail("gate join", InvalidArgument("give --proxy or --node, not both"));
      auto where = LiveSessionNode();
      if (!where) return Fail("gate join", where.error());
      node_ = *where;
    }
    if (!node_.empty()) return RunRemote();
    if (!login_.empty() || node_gate_ != "gate") {
      return Fail("gate join", InvalidArgument("--login and --node-gate need --node"));
    }
    return RunLocal(*mode);
  }

 private:
  int RunLocal(JoinMode mode) {
    const std::string path = (run_dir_.empty() ? NodeRunDir() : run_dir_) + "/" + id_ + ".sock";
    auto joined = recorder::StartJoin(path, id_, mode);
    if (!joined) return Fail("gate join", joined.error());
    return recorder::RunAttached(joined->client, joined->accept, mode, id_, STDIN_FILENO,
                                 STDOUT_FILENO, STDERR_FILENO);
  }

  // Plain "gate join ID" outside any recorded session (no GATE_SESSION_ID,
  // no --run-dir or --node) by someone logged in to a cluster: a
  // workstation, so ask the profile's gate-ca where the session runs.
  bool FromWorkstation() const {
    const char* in_session = std::getenv("GATE_SESSION_ID");
    if ((in_session != nullptr && *in_session != '\0') || !run_dir_.empty() || !node_.empty()) {
      return false;
    }
    auto store = ProfileStore::Default();
    return store && store->Load().has_value();
  }

  // The node a live session runs on, from gate-ca's sessions index (the
  // session must be visible to this user: their own, or a join role's).
  Result<std::string> LiveSessionNode() const {
    auto store = ProfileStore::Default();
    if (!store) return Err(store.error());
    auto client =
        SessionClient::FromProfile(*store, flags_, static_cast<std::int64_t>(std::time(nullptr)));
    if (!client) return Err(client.error());
    auto session = client->Get(id_);
    if (!session) return Err(session.error());
    if (!(*session)["live"].asBool()) {
      return Err(
          FailedPrecondition("session " + id_ + " has ended; gate play " + id_ + " replays it"));
    }
    const std::string node = (*session)["node_name"].asString();
    if (node.empty()) return Err(DataLoss("gate-ca did not say which node runs " + id_));
    return node;
  }

  int RunRemote() {
    if (!run_dir_.empty()) {
      return Fail("gate join", InvalidArgument("--run-dir applies to this node, not with --node"));
    }
    auto node = ParseNode(node_);
    if (!node) return Fail("gate join", node.error());
    auto store = ProfileStore::Default();
    if (!store) return Fail("gate join", store.error());
    auto profile = store->Load();
    if (!profile) return Fail("gate join", profile.error());
    std::string login = login_;
    if (login.empty()) {
      if (profile->logins.empty()) {
        return Fail("gate join", InvalidArgument("your profile has no logins; pass --login"));
      }
      login = profile->logins.front();
    }
    if (Status s = ValidateLogin(login); !s.ok())
      return Fail("gate join", s.WithContext("--login"));
    // The remote shell parses the command line ssh sends: a plain path only.
    bool plain = !node_gate_.empty() && node_gate_.front() != '-';
    for (char c : node_gate_) {
      plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '/' || c == '.' || c == '_' || c == '-');
    }
    if (!plain) return Fail("gate join", InvalidArgument("--node-gate must be a plain path"));

    std::vector<std::string> args = {"ssh", "-t"};
    if (!node->second.empty()) args.insert(args.end(), {"-p", node->second});
    // Quoted as gate config quotes them: ssh splits -o values like config lines.
    args.insert(
        args.end(),
        {"-i", store->KeyPath(), "-o", "CertificateFile=\"" + store->CertPath() + "\"", "-o",
         "UserKnownHostsFile=\"" + store->KnownHostsPath() + "\"", "-o", "IdentitiesOnly=yes", "-l",
         login, "--", node->first, node_gate_, "join", "--mode", mode_name_, id_});
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("ssh", argv.data());
    return Fail("gate join", Unavailable(std::string("cannot run ssh: ") + std::strerror(errno)));
  }

  std::string id_;
  std::string mode_name_ = "observer";
  std::string run_dir_;
  std::string node_;
  ProxyFlags flags_;
  std::string login_;
  std::string node_gate_ = "gate";
};

}  // namespace

std::unique_ptr<Command> MakeJoinCommand() { return std::make_unique<JoinCommand>(); }

}  // namespace gate::cli
