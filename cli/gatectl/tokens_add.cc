// gatectl tokens add --type=node [--ttl 30m] [--labels env=prod,team=db]
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
    sub.footer(
        "Prints a single-use token and the gate-node join command to run, as root, on\n"
        "the node. The token is stored only as a hash and works once, before it\n"
        "expires. The node gets these labels plus any it asks for with gate-node join\n"
        "--labels; where both name a label, the token's value wins.\n\n"
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
    std::cout << "Run this on the node, as root:\n"
              << "  gate-node join --proxy " << r["proxy"].asString() << " --ca-pin "
              << r["ca_pin"].asString() << " --token " << token << "\n\n"
              << "NOTE: Make sure " << r["proxy"].asString()
              << " points at this gate-ca and is reachable from the node.\n";
    return kExitOk;
  }

 private:
  AdminFlags admin_;
  std::string type_;
  std::string ttl_text_;
  std::string labels_;
};

}  // namespace

std::unique_ptr<Command> MakeTokensAddCommand() { return std::make_unique<TokensAddCommand>(); }

}  // namespace gate::cli
