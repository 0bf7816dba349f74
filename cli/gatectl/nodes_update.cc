// gatectl nodes update NODE --principals a,b
#include <iostream>

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
                   "separated; replaces the current list (\"\" leaves the hostname alone)")
        ->required();
    sub.footer(
        "Sets the names a node's host certificate vouches for. gate-ca decides them, never\n"
        "the node: the hostname it joined with plus the names given here (or on its join\n"
        "token). Each name belongs to one node; a name another node has is refused. The\n"
        "node gets a certificate with the new names at its next gate-node sync (within\n"
        "30s with the sync timer); a name taken away stays valid on its current\n"
        "certificate until that is renewed.\n\n"
        "Example: gatectl nodes update db-1 --principals db-1.example.com,10.0.0.5\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    auto principals =
        ListFlag("--principals", principals_, [](std::string_view) { return Status::Ok(); });
    if (!principals) return Fail(kTool, principals.error());
    auto uuid = ResolveNode(admin_, node_);
    if (!uuid) return Fail(kTool, uuid.error());
    Json::Value body;
    body["principals"] = *principals;
    auto reply = AdminCall(admin_, "POST", "/admin/v1/nodes/" + *uuid, &body);
    if (!reply) return Fail(kTool, reply.error());
    std::cout << "Node " << (*reply)["hostname"].asString() << " (" << *uuid
              << ") now has the host names " << JoinArray((*reply)["principals"], ", ")
              << "; it gets a certificate for them at its next sync.\n";
    return kExitOk;
  }

 private:
  AdminFlags admin_;
  std::string node_;
  std::string principals_;
};

}  // namespace

std::unique_ptr<Command> MakeNodesUpdateCommand() { return std::make_unique<NodesUpdateCommand>(); }

}  // namespace gate::cli
