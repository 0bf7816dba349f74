// gatectl users update NAME [--roles r1,r2] [--logins a,b]
#include <iostream>

#include "cli/gatectl/admin_client.h"
#include "cli/gatectl/commands.h"
#include "gate/exit_code.h"
#include "gate/json.h"
#include "gate/names.h"

namespace gate::cli {
namespace {

class UsersUpdateCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    admin_.Define(sub);
    sub.add_option("name", name_, "gate user name")->required();
    roles_opt_ = sub.add_option("--roles", roles_,
                                "Replace the user's roles (comma separated; \"\" for none)");
    logins_opt_ = sub.add_option("--logins", logins_,
                                 "Replace the user's own logins (comma separated; \"\" for none)");
    sub.footer(
        "Each list given replaces the old one; a list not given stays as it is. A user\n"
        "must keep at least one login or role. Every role named must exist.\n\n"
        "The change applies to the next certificate the user gets (gate login) and to\n"
        "nodes at their next sync (within a minute). Certificates already issued keep\n"
        "their principals until they expire; revoke them (gatectl certs revoke --user)\n"
        "to take logins away at once.\n\n"
        "Examples:\n"
        "  gatectl users update alice --roles dev,dba\n"
        "  gatectl users update alice --logins \"\" --roles dev\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    constexpr std::string_view kTool = "gatectl users update";
    if (Status s = ValidateUserName(name_); !s.ok()) return Fail(kTool, s);
    if (roles_opt_->count() == 0 && logins_opt_->count() == 0) {
      return Fail(kTool, InvalidArgument("give --roles, --logins or both"));
    }
    Json::Value body(Json::objectValue);
    if (roles_opt_->count() > 0) {
      auto roles = RolesFlag(roles_);
      if (!roles) return Fail(kTool, roles.error());
      body["roles"] = *roles;
    }
    if (logins_opt_->count() > 0) {
      body["logins"] = Json::Value(Json::arrayValue);
      if (!logins_.empty()) {
        auto logins = ParseLoginList(logins_);
        if (!logins) return Fail(kTool, logins.error().WithContext("--logins"));
        body["logins"] = json::StringArray(*logins);
      }
    }
    auto reply = AdminCall(admin_, "PUT", "/admin/v1/users/" + name_, &body);
    if (!reply) return Fail(kTool, reply.error());
    std::cout << "User " << name_ << " updated: logins " << JoinArray((*reply)["logins"])
              << ", roles " << JoinArray((*reply)["roles"]) << ".\n";
    return kExitOk;
  }

 private:
  AdminFlags admin_;
  std::string name_;
  std::string roles_;
  std::string logins_;
  CLI::Option* roles_opt_ = nullptr;
  CLI::Option* logins_opt_ = nullptr;
};

}  // namespace

std::unique_ptr<Command> MakeUsersUpdateCommand() { return std::make_unique<UsersUpdateCommand>(); }

}  // namespace gate::cli
