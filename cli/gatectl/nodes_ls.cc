// gatectl nodes ls
#include <cstdio>
#include <ctime>
#include <string>

#include "cli/gatectl/admin_client.h"
#include "cli/gatectl/commands.h"
#include "gate/exit_code.h"

namespace gate::cli {
namespace {

// "12s ago", "5m ago", "3h ago", "2d ago"; "never" for 0.
std::string Ago(std::int64_t when, std::int64_t now) {
  if (when == 0) return "never";
  const std::int64_t d = now > when ? now - when : 0;
  if (d < 60) return std::to_string(d) + "s ago";
  if (d < 3600) return std::to_string(d / 60) + "m ago";
  if (d < 86400) return std::to_string(d / 3600) + "h ago";
  return std::to_string(d / 86400) + "d ago";
}

class NodesLsCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    admin_.Define(sub);
    sub.footer(
        "Columns: host UUID (the node's identity, and the key id of its host\n"
        "certificate), host name, labels, when the node last fetched its policy\n"
        "(gate-node sync runs every 30s; a node silent for long keeps deciding logins\n"
        "from its last copy), the policy revision that sync brought it to (compare with\n"
        "the others: a node behind them has not seen the latest changes; '-' for a node\n"
        "that never synced by revision), where gate-ca reaches its sshd for terminals in the\n"
        "browser (gatectl nodes update --ssh-address), and the other names its host\n"
        "certificate carries (gatectl nodes update --principals). Remove a node with gatectl nodes "
        "rm HOST_UUID.\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    auto reply = AdminCall(admin_, "GET", "/admin/v1/nodes");
    if (!reply) return Fail("gatectl nodes ls", reply.error());
    const std::int64_t now = std::time(nullptr);
    std::printf("%-36s %-24s %-32s %-10s %-9s %-24s %s\n", "Host UUID", "Hostname", "Labels",
                "Last sync", "Revision", "SSH address", "Also named");
    for (const auto& n : (*reply)["nodes"]) {
      Json::Value others(Json::arrayValue);
      for (const auto& name : n["principals"]) {
        if (name.asString() != n["hostname"].asString()) others.append(name);
      }
      const std::int64_t revision = n["policy_revision"].asInt64();
      const std::string address = n["ssh_address"].asString();
      std::printf("%-36s %-24s %-32s %-10s %-9s %-24s %s\n", n["host_uuid"].asCString(),
                  n["hostname"].asCString(), JoinLabels(n["labels"]).c_str(),
                  Ago(n["last_sync"].asInt64(), now).c_str(),
                  revision > 0 ? std::to_string(revision).c_str() : "-",
                  address.empty() ? "-" : address.c_str(), JoinArray(others).c_str());
    }
    return kExitOk;
  }

 private:
  AdminFlags admin_;
};

}  // namespace

std::unique_ptr<Command> MakeNodesLsCommand() { return std::make_unique<NodesLsCommand>(); }

}  // namespace gate::cli
