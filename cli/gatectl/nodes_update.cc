// gatectl nodes update NODE [--principals a,b] [--ssh-address HOST:PORT]
#include <iostream>
#include <optional>

#include "cli/gatectl/admin_client.h"
#include "cli/gatectl/commands.h"
#include "gate/exit_code.h"

namespace gate::cli {
namespace {

constexpr std::string_view kTool = "gatectl nodes update";

// The host UUID of NODE, given as a host UUID or a hostname.
Result<std::string> ResolveNode(const AdminFlags& admin, const std::string& node) {
  auto reply = AdminCall(admin, "GET", "/admin/v1/nodes");
  if (!reply) return Err(reply.error());
  std::string found;
  for (const auto& n : (*reply)["nodes"]) {
    if (n["host_uuid"].asString() == node) return node;
    if (n["hostname"].asString() == node) {
      if (!found.empty()) {
        return Err(InvalidArgument("several nodes are called " + node +
                                   "; name the one you mean by its host UUID (gatectl nodes ls)"));
      }
      found = n["host_uuid"].asString();
    }
  }
  if (found.empty()) return Err(NotFound("no node " + node + " (see gatectl nodes ls)"));
  return found;
}

class NodesUpdateCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    admin_.Define(sub);
    sub.add_option("node", node_, "The node: its host UUID or hostname (see gatectl nodes ls)")
        ->required();
    sub.add_option("--principals", principals_,
                   "The host names its host certificate carries besides its hostname, comma\n"
                   "separated; replaces the current list (\"\" leaves the hostname alone)");
    sub.add_option("--ssh-address", ssh_address_,
                   "Where gate-ca reaches the node's sshd for terminals and live joins in the\n"
                   "browser: HOST[:PORT] (port 22 if omitted; IPv6 as [addr]:port; \"\" for none,\n"
                   "which turns terminals in the browser off for the node)");
    sub.footer(
        "Give --principals, --ssh-address or both.\n\n"
        "--principals sets the names a node's host certificate vouches for. gate-ca decides them, "
        "never\n"
        "the node: the hostname it joined with plus the names given here (or on its join\n"
        "token). Each name belongs to one node; a name another node has is refused. The\n"
        "node gets a certificate with the new names at its next gate-node sync (within\n"
        "30s with the sync timer); a name taken away stays valid on its current\n"
        "certificate until that is renewed.\n\n"
        "--ssh-address is recorded by gate-node join (sshd's listen address and port);\n"
        "change it when gate-ca must reach the node another way (NAT, a jump network).\n"
        "gate-ca still checks that the sshd it reaches there has the host key the node\n"
        "joined with, so a wrong address fails closed.\n\n"
        "Examples: gatectl nodes update db-1 --principals db-1.example.com,10.0.0.5\n"
        "          gatectl nodes update db-1 --ssh-address 10.0.0.5:2222\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    if (!principals_ && !ssh_address_) {
      return Fail(kTool, InvalidArgument("give --principals, --ssh-address or both"));
    }
    Json::Value body(Json::objectValue);
    if (principals_) {
      auto principals =
          ListFlag("--principals", *principals_, [](std::string_view) { return Status::Ok(); });
      if (!principals) return Fail(kTool, principals.error());
      body["principals"] = *principals;
    }
    if (ssh_address_) body["ssh_address"] = *ssh_address_;
    auto uuid = ResolveNode(admin_, node_);
    if (!uuid) return Fail(kTool, uuid.error());
    auto reply = AdminCall(admin_, "POST", "/admin/v1/nodes/" + *uuid, &body);
    if (!reply) return Fail(kTool, reply.error());
    const std::string node = (*reply)["hostname"].asString() + " (" + *uuid + ")";
    if (principals_) {
      std::cout << "Node " << node << " now has the host names "
                << JoinArray((*reply)["principals"], ", ")
                << "; it gets a certificate for them at its next sync.\n";
    }
    if (ssh_address_) {
      const std::string address = (*reply)["ssh_address"].asString();
      if (address.empty()) {
        std::cout << "Node " << node << " has no SSH address now: no terminals in the browser.\n";
      } else {
        std::cout << "Node " << node << " is now reached at " << address
                  << " for terminals in the browser.\n";
      }
    }
    return kExitOk;
  }

 private:
  AdminFlags admin_;
  std::string node_;
  std::optional<std::string> principals_;
  std::optional<std::string> ssh_address_;
};

}  // namespace

std::unique_ptr<Command> MakeNodesUpdateCommand() { return std::make_unique<NodesUpdateCommand>(); }

}  // namespace gate::cli
