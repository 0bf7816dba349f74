// gatectl users unlock NAME
#include <iostream>

#include "cli/gatectl/admin_client.h"
#include "cli/gatectl/commands.h"
#include "gate/exit_code.h"
#include "gate/names.h"

namespace gate::cli {
namespace {

class UsersUnlockCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    admin_.Define(sub);
    sub.add_option("name", name_, "gate user name")->required();
    sub.footer(
        "Removes the user's lock: gate login works again at once, and nodes accept the\n"
        "user's certificates again from their next policy sync (within a minute).\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    constexpr std::string_view kTool = "gatectl users unlock";
    if (Status s = ValidateUserName(name_); !s.ok()) return Fail(kTool, s);
    auto reply = AdminCall(admin_, "DELETE", "/admin/v1/users/" + name_ + "/lock");
    if (!reply) return Fail(kTool, reply.error());
    std::cout << "User " << name_ << " is unlocked.\n";
    return kExitOk;
  }

 private:
  AdminFlags admin_;
  std::string name_;
};

}  // namespace

std::unique_ptr<Command> MakeUsersUnlockCommand() { return std::make_unique<UsersUnlockCommand>(); }

}  // namespace gate::cli
