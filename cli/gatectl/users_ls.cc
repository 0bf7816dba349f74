// gatectl users ls
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "cli/gatectl/admin_client.h"
#include "cli/gatectl/commands.h"
#include "gate/duration.h"
#include "gate/exit_code.h"

namespace gate::cli {
namespace {

// "locked" with how long it has left, or the status as the server said.
std::string StatusText(const Json::Value& u) {
  std::string status = u["status"].asString();
  if (status == "locked" && u["lock"]["expires_at"].asInt64() > 0) {
    const std::int64_t left = u["lock"]["expires_at"].asInt64() - std::time(nullptr);
    if (left > 0) status += " (" + FormatDuration(std::chrono::seconds(left)) + " left)";
  }
  return status;
}

class UsersLsCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    admin_.Define(sub);
    sub.footer(
        "Columns: the user's own logins (granted on every node), roles, second factor,\n"
        "and status: pending signup, active, locked out (too many failed logins\n"
        "recently: addresses that failed must wait, others may still log in; it ends\n"
        "by itself) or locked (by an admin: gatectl users lock/unlock).");
  }

  int Run() override {
    auto reply = AdminCall(admin_, "GET", "/admin/v1/users");
    if (!reply) return Fail("gatectl users ls", reply.error());
    std::printf("%-24s %-28s %-16s %-5s %s\n", "User", "Logins", "Roles", "MFA", "Status");
    for (const auto& u : (*reply)["users"]) {
      std::printf("%-24s %-28s %-16s %-5s %s\n", u["name"].asCString(),
                  JoinArray(u["logins"]).c_str(), JoinArray(u["roles"]).c_str(),
                  u["mfa"].asCString(), StatusText(u).c_str());
    }
    return kExitOk;
  }

 private:
  AdminFlags admin_;
};

}  // namespace

std::unique_ptr<Command> MakeUsersLsCommand() { return std::make_unique<UsersLsCommand>(); }

}  // namespace gate::cli
