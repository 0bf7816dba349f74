// gatectl users reset NAME [--ttl 1h]
#include <iostream>

#include "cli/gatectl/admin_client.h"
#include "cli/gatectl/commands.h"
#include "gate/duration.h"
#include "gate/exit_code.h"
#include "gate/names.h"

namespace gate::cli {
namespace {

class UsersResetCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    admin_.Define(sub);
    sub.add_option("name", name_, "gate user name")->required();
    sub.add_option("--ttl", ttl_text_, "How long the signup token is valid (default 1h)");
    sub.footer(
        "Forgets the user's password and OTP device and prints a new signup URL.\n"
        "The user cannot log in again until they sign up with it.");
  }

  int Run() override {
    if (Status s = ValidateUserName(name_); !s.ok()) return Fail("gatectl users reset", s);
    Json::Value body(Json::objectValue);
    if (!ttl_text_.empty()) {
      auto ttl = ParseDuration(ttl_text_);
      if (!ttl) return Fail("gatectl users reset", ttl.error().WithContext("--ttl"));
      body["ttl_seconds"] = Json::Int64(ttl->count());
    }
    auto reply = AdminCall(admin_, "POST", "/admin/v1/users/" + name_ + "/reset", &body);
    if (!reply) return Fail("gatectl users reset", reply.error());
    PrintSignupToken(*reply);
    return kExitOk;
  }

 private:
  AdminFlags admin_;
  std::string name_;
  std::string ttl_text_;
};

}  // namespace

std::unique_ptr<Command> MakeUsersResetCommand() { return std::make_unique<UsersResetCommand>(); }

}  // namespace gate::cli
