// gatectl users add NAME [LOGINS] [--logins a,b] [--roles r1,r2] [--ttl 1h]
#include <iostream>

#include "cli/gatectl/admin_client.h"
#include "cli/gatectl/commands.h"
#include "gate/duration.h"
#include "gate/exit_code.h"
#include "gate/json.h"
#include "gate/names.h"

namespace gate::cli {
namespace {

class UsersAddCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    admin_.Define(sub);
    sub.add_option("name", name_, "gate user name")->required();
    sub.add_option("logins", positional_logins_,
                   "OS logins the user may use on every node, comma separated");
    sub.add_option("--logins", flag_logins_, "Same as the LOGINS argument");
    sub.add_option("--roles", roles_,
                   "Roles the user holds, comma separated (see gatectl roles ls); each must exist");
    sub.add_option("--ttl", ttl_text_, "How long the signup token is valid (default 1h)");
    sub.footer(
        "A user's own logins apply on every node; a role's logins only on the nodes its\n"
        "node labels select. With neither logins nor roles, the user gets the login of\n"
        "its own name.\n\n"
        "Examples:\n"
        "  gatectl users add alice alice,root\n"
        "  gatectl users add bob --roles dev,dba\n"
        "The token in the URL is shown once and stored only as a hash; it works once.\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    if (!positional_logins_.empty() && !flag_logins_.empty()) {
      return Fail("gatectl users add", InvalidArgument("give LOGINS or --logins, not both"));
    }
    const std::string& list = positional_logins_.empty() ? flag_logins_ : positional_logins_;
    Json::Value body;
    body["name"] = name_;
    if (Status s = ValidateUserName(name_); !s.ok()) return Fail("gatectl users add", s);
    if (!list.empty()) {
      auto logins = ParseLoginList(list);
      if (!logins) return Fail("gatectl users add", logins.error());
      body["logins"] = json::StringArray(*logins);
    }
    if (!roles_.empty()) {
      auto roles = RolesFlag(roles_);
      if (!roles) return Fail("gatectl users add", roles.error());
      body["roles"] = *roles;
    }
    if (!ttl_text_.empty()) {
      auto ttl = ParseDuration(ttl_text_);
      if (!ttl) return Fail("gatectl users add", ttl.error().WithContext("--ttl"));
      body["ttl_seconds"] = Json::Int64(ttl->count());
    }
    auto reply = AdminCall(admin_, "POST", "/admin/v1/users", &body);
    if (!reply) return Fail("gatectl users add", reply.error());
    PrintSignupToken(*reply);
    return kExitOk;
  }

 private:
  AdminFlags admin_;
  std::string name_;
  std::string positional_logins_;
  std::string flag_logins_;
  std::string roles_;
  std::string ttl_text_;
};

}  // namespace

std::unique_ptr<Command> MakeUsersAddCommand() { return std::make_unique<UsersAddCommand>(); }

}  // namespace gate::cli
