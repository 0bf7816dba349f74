// gatectl users rm NAME
#include <iostream>

#include "cli/gatectl/admin_client.h"
#include "cli/gatectl/commands.h"
#include "gate/exit_code.h"
#include "gate/names.h"

namespace gate::cli {
namespace {

class UsersRmCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    admin_.Define(sub);
    sub.add_option("name", name_, "gate user name")->required();
    sub.footer(
        "Deletes the user, any outstanding signup token and any lock. Joined nodes\n"
        "refuse the user's logins from their next policy sync (within a minute).\n"
        "Certificates already issued stay valid until they expire wherever sshd trusts\n"
        "the user CA without gate's policy; gatectl certs revoke --user NAME puts them\n"
        "in the revocation list as well.\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    if (Status s = ValidateUserName(name_); !s.ok()) return Fail("gatectl users rm", s);
    auto reply = AdminCall(admin_, "DELETE", "/admin/v1/users/" + name_);
    if (!reply) return Fail("gatectl users rm", reply.error());
    std::cout << "User " << name_ << " has been deleted.\n";
    return kExitOk;
  }

 private:
  AdminFlags admin_;
  std::string name_;
};

}  // namespace

std::unique_ptr<Command> MakeUsersRmCommand() { return std::make_unique<UsersRmCommand>(); }

}  // namespace gate::cli
