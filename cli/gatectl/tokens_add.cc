// gatectl tokens add --type=node [--ttl 30m] [--labels env=prod,team=db]
//                    [--principals db-1.example.com,10.0.0.5]
#include <chrono>
#include <iostream>

#include "cli/gatectl/admin_client.h"
#include "cli/gatectl/commands.h"
#include "gate/duration.h"
#include "gate/exit_code.h"

namespace gate::cli {
namespace {

class TokensAddCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    admin_.Define(sub);
    sub.add_option("--type", type_, "Token type; only node (a node join token) for now")
        ->required()
        ->check(CLI::IsMember({"node"}));
    sub.add_option("--ttl", ttl_text_, "How long the token is valid (default 30m, at most 24h)");
    sub.add_option("--labels", labels_,
                   "Labels the node gets, as label=value pairs, comma separated (e.g.\n"
                   "env=prod,team=db); roles select nodes by them");
    sub.add_option("--principals", principals_,
                   "Host names the node may have on its host certificate besides its own\n"
                   "hostname, comma separated (e.g. db-1.example.com,10.0.0.5)");
    sub.footer(
        "Prints a single-use token and the gate-node join command to run, as root, on\n"
        "the node. The token is stored only as a hash and works once, before it\n"
        "expires. The node gets these labels plus any it asks for with gate-node join\n"
        "--labels; where both name a label, the token's value wins.\n\n"
        "Host names are gate-ca's decision, not the node's: its host certificate names\n"
        "its hostname plus the --principals given here (or later with gatectl nodes\n"
        "update), and a name belongs to one node only. A join asking for any other name\n"
        "is refused.\n\n"
        "The token is a secret until it is used: the command printed for the node reads\n"
        "it at a prompt (or from --token-file or GATE_NODE_TOKEN), never from its\n"
        "command line, where every local user could read it.\n\n"
        "Example: gatectl tokens add --type=node --ttl 30m --labels env=prod,team=db\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    constexpr std::string_view kTool = "gatectl tokens add";
    Json::Value body;
    body["type"] = type_;
    if (!ttl_text_.empty()) {
      auto ttl = ParseDuration(ttl_text_);
      if (!ttl) return Fail(kTool, ttl.error().WithContext("--ttl"));
      body["ttl_seconds"] = Json::Int64(ttl->count());
    }
    if (!labels_.empty()) {
      auto labels = LabelsFlag("--labels", labels_);
      if (!labels) return Fail(kTool, labels.error());
      body["labels"] = *labels;
    }
    if (!principals_.empty()) {
      auto principals =
          ListFlag("--principals", principals_, [](std::string_view) { return Status::Ok(); });
      if (!principals) return Fail(kTool, principals.error());
      body["principals"] = *principals;
    }
    auto reply = AdminCall(admin_, "POST", "/admin/v1/tokens", &body);
    if (!reply) return Fail(kTool, reply.error());
    const Json::Value& r = *reply;
    const std::string token = r["token"].asString();
    std::cout << "The node join token: " << token << " (valid for "
              << FormatDuration(std::chrono::seconds(r["ttl_seconds"].asInt64()))
              << ", single use)\n";
    if (!r["labels"].empty()) {
      std::cout << "Nodes joining with it get the labels " << JoinLabels(r["labels"]) << ".\n";
    }
    if (!r["principals"].empty()) {
      std::cout << "Its host certificate may also name " << JoinArray(r["principals"], ", ")
                << ".\n";
    }
    std::cout << "Run this on the node, as root, and paste the token when it asks:\n"
              << "  gate-node join --proxy " << r["proxy"].asString() << " --ca-pin "
              << r["ca_pin"].asString() << "\n\n"
              << "NOTE: Make sure " << r["proxy"].asString()
              << " points at this gate-ca and is reachable from the node.\n";
    return kExitOk;
  }

 private:
  AdminFlags admin_;
  std::string type_;
  std::string ttl_text_;
  std::string labels_;
  std::string principals_;
};

}  // namespace

std::unique_ptr<Command> MakeTokensAddCommand() { return std::make_unique<TokensAddCommand>(); }

}  // namespace gate::cli
