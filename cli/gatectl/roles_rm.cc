// gatectl roles rm NAME
#include <iostream>

#include "cli/gatectl/admin_client.h"
#include "cli/gatectl/commands.h"
#include "gate/exit_code.h"
#include "gate/policy.h"

namespace gate::cli {
namespace {

class RolesRmCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    admin_.Define(sub);
    sub.add_option("name", name_, "Role name")->required();
    sub.footer(
        "Refused while any user holds the role (the error names them): take it away\n"
        "first with gatectl users update NAME --roles ..., so that removing a role never\n"
        "changes someone's access unnoticed.\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    constexpr std::string_view kTool = "gatectl roles rm";
    if (Status s = policy::ValidateRoleName(name_); !s.ok()) return Fail(kTool, s);
    auto reply = AdminCall(admin_, "DELETE", "/admin/v1/roles/" + name_);
    if (!reply) return Fail(kTool, reply.error());
    std::cout << "Role " << name_ << " has been deleted.\n";
    return kExitOk;
  }

 private:
  AdminFlags admin_;
  std::string name_;
};

}  // namespace

std::unique_ptr<Command> MakeRolesRmCommand() { return std::make_unique<RolesRmCommand>(); }

}  // namespace gate::cli
