// gatectl nodes rm HOST_UUID
#include <iostream>

#include "cli/gatectl/admin_client.h"
#include "cli/gatectl/commands.h"
#include "gate/exit_code.h"

namespace gate::cli {
namespace {

class NodesRmCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    admin_.Define(sub);
    sub.add_option("host_uuid", host_uuid_, "The node's host UUID (see gatectl nodes ls)")
        ->required();
    sub.footer(
        "Forgets the node: its credential stops working, so it gets no more policy\n"
        "updates or host certificates. It does not touch the node itself, whose sshd\n"
        "keeps deciding logins from its last cached policy and keeps its current host\n"
        "certificate until that expires; run gate-node leave on the node to undo the\n"
        "join there.\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    auto reply = AdminCall(admin_, "DELETE", "/admin/v1/nodes/" + host_uuid_);
    if (!reply) return Fail("gatectl nodes rm", reply.error());
    std::cout << "Node " << host_uuid_ << " has been removed.\n";
    return kExitOk;
  }

 private:
  AdminFlags admin_;
  std::string host_uuid_;
};

}  // namespace

std::unique_ptr<Command> MakeNodesRmCommand() { return std::make_unique<NodesRmCommand>(); }

}  // namespace gate::cli
