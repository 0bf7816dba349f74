// gate ssh [-p PORT] [-J JUMP] [-o OPTION]... [LOGIN@]NODE [COMMAND...]
//
// Runs OpenSSH with the current profile's key, certificate and the
// cluster's known_hosts (cli/common/openssh.h); no ssh_config needed.
// When ssh fails, says why if gate can tell: not logged in, or a login
// the user does not have on that node.
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

#include "cli/common/openssh.h"
#include "cli/common/profile.h"
#include "cli/common/session_api.h"
#include "cli/common/terminal_text.h"
#include "cli/gate/commands.h"
#include "gate/exit_code.h"
#include "gate/names.h"

namespace gate::cli {
namespace {

constexpr std::string_view kTool = "gate ssh";
// What ssh exits with when it, not the remote command, failed.
constexpr int kSshError = 255;

std::string LocalUserName() {
  const passwd* pw = getpwuid(getuid());
  return pw != nullptr && pw->pw_name != nullptr ? pw->pw_name : "";
}

bool Contains(const Json::Value& list, const std::string& s) {
  for (const Json::Value& v : list) {
    if (v.asString() == s) return true;
  }
  return false;
}

class SshCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    sub_ = &sub;
    sub.add_option("-l,--login", login_,
                   "OS login on the node (default: LOGIN@ or your local "
                   "user name, as ssh)");
    sub.add_option("-p,--port", port_, "The node's ssh port (default 22)")
        ->check(CLI::Range(1, 65535));
    sub.add_option("-J,--jump", jump_, "Reach the node through this ssh jump host (ssh -J)");
    // One value per -o, so the node and command after it stay positional.
    sub.add_option("-o", options_, "An ssh option (ssh -o), e.g. -o ServerAliveInterval=30")
        ->allow_extra_args(false);
    sub.add_flag("-t", force_tty_, "Force a terminal even with a command (ssh -t)");
    sub.add_option("destination", destination_, "[LOGIN@]NODE")->required();
    // Everything after the node is the remote command, flags included.
    sub.prefix_command();
    sub.footer(
        "Runs ssh with the key and certificate of your current gate login and the\n"
        "cluster's host CA, checking host certificates strictly: no ssh_config editing.\n"
        "If ssh fails, gate says when you are not logged in, and which logins you have\n"
        "on the node when the one asked for is not among them.\n\n"
        "Examples:\n"
        "  gate ssh alice@node1\n"
        "  gate ssh -p 2222 root@node1 systemctl status sshd\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    std::string host = destination_;
    std::string login = login_;
    if (const std::size_t at = host.rfind('@'); at != std::string::npos) {
      login = host.substr(0, at);
      host = host.substr(at + 1);
    }
    if (login.empty()) login = LocalUserName();
    if (host.empty() || host.front() == '-') {
      return Fail(kTool, InvalidArgument("'" + Printable(destination_) + "' is not a node"));
    }
    if (Status s = ValidateLogin(login); !s.ok()) return Fail(kTool, s);
    auto store = ProfileStore::Default();
    if (!store) return Fail(kTool, store.error());
    auto profile = UsableProfile(*store, now);
    if (!profile) return Fail(kTool, profile.error());

    std::vector<std::string> args = {"ssh"};
    for (std::string& o : OpenSshOptions(*store)) args.push_back(std::move(o));
    if (port_ != 0) args.insert(args.end(), {"-p", std::to_string(port_)});
    if (!jump_.empty()) args.insert(args.end(), {"-J", jump_});
    for (const std::string& o : options_) args.insert(args.end(), {"-o", o});
    if (force_tty_) args.push_back("-t");
    args.insert(args.end(), {"-l", login, "--", host});
    for (const std::string& word : sub_->remaining()) args.push_back(word);
    auto status = RunAndWait(args);
    if (!status) return Fail(kTool, status.error());
    if (*status == kSshError) Explain(*store, host, login, now);
    return *status;
  }

 private:
  // After ssh failed: if gate-ca's list shows the login is not the user's
  // on that node, or the node is not one they may reach, say so (ssh can
  // only say "Permission denied").
  static void Explain(const ProfileStore& store, const std::string& host, const std::string& login,
                      std::int64_t now) {
    auto client = SessionClient::FromProfile(store, ProxyFlags{}, now);
    if (!client) return;
    auto reply = client->Nodes();
    if (!reply) return;
    for (const Json::Value& node : (*reply)["nodes"]) {
      if (node["name"].asString() != host && !Contains(node["principals"], host)) continue;
      if (Contains(node["logins"], login)) return;
      std::string mine;
      for (const Json::Value& l : node["logins"]) {
        mine += (mine.empty() ? "" : ", ") + Printable(l.asString());
      }
      std::cerr << kTool << ": " << Printable(login) << " is not one of your logins on "
                << Printable(node["name"].asString()) << "; your logins there: " << mine
                << " (gate ssh LOGIN@" << Printable(host) << ")\n";
      return;
    }
    std::cerr << kTool << ": " << Printable(host) << " is not a node of "
              << Printable((*reply)["cluster_name"].asString())
              << " that you may log into (gate ls lists them)\n";
  }

  CLI::App* sub_ = nullptr;
  std::string login_;
  int port_ = 0;
  std::string jump_;
  std::vector<std::string> options_;
  bool force_tty_ = false;
  std::string destination_;
};

}  // namespace

std::unique_ptr<Command> MakeSshCommand() { return std::make_unique<SshCommand>(); }

}  // namespace gate::cli
