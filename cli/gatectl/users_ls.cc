// gatectl users ls
#include <cstdio>
#include <iostream>

#include "cli/common/exit_code.h"
#include "cli/gatectl/admin_client.h"
#include "cli/gatectl/commands.h"

namespace gate::cli {
namespace {

std::string JoinArray(const Json::Value& a) {
  std::string out;
  for (const auto& v : a) out += (out.empty() ? "" : ",") + v.asString();
  return out.empty() ? "-" : out;
}

class UsersLsCommand final : public Command {
 public:
  void Define(CLI::App& sub) override { admin_.Define(sub); }

  int Run() override {
    auto reply = AdminCall(admin_, "GET", "/admin/v1/users");
    if (!reply) return Fail("gatectl users ls", reply.error());
    std::printf("%-24s %-28s %-16s %-5s %s\n", "User", "Logins", "Roles", "MFA", "Status");
    for (const auto& u : (*reply)["users"]) {
      std::printf("%-24s %-28s %-16s %-5s %s\n", u["name"].asCString(),
                  JoinArray(u["logins"]).c_str(), JoinArray(u["roles"]).c_str(),
                  u["mfa"].asCString(), u["status"].asCString());
    }
    return kExitOk;
  }

 private:
  AdminFlags admin_;
};

}  // namespace

std::unique_ptr<Command> MakeUsersLsCommand() { return std::make_unique<UsersLsCommand>(); }

}  // namespace gate::cli
