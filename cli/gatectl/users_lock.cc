// gatectl users lock NAME [--ttl 1h] [--message TEXT]
#include <chrono>
#include <iostream>

#include "cli/gatectl/admin_client.h"
#include "cli/gatectl/commands.h"
#include "gate/duration.h"
#include "gate/exit_code.h"
#include "gate/names.h"

namespace gate::cli {
namespace {

class UsersLockCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    admin_.Define(sub);
    sub.add_option("name", name_, "gate user name")->required();
    sub.add_option("--ttl", ttl_text_,
                   "Lift the lock by itself after this long (e.g. 1h, 30m; default: never)");
    sub.add_option("--message", message_,
                   "Why, shown to the user when login is refused and in logs (at most 256 "
                   "characters; default \"locked by an administrator\")");
    sub.footer(
        "A locked user gets no new certificate (gate login says \"user NAME is locked:\n"
        "MESSAGE\" after checking the password and code, so the lock is not revealed to\n"
        "someone without them), and every node refuses the user's SSH logins from its\n"
        "next policy sync (within a minute), whatever certificate the user holds.\n"
        "Locking again replaces the lock. Undo with: gatectl users unlock NAME\n\n"
        "Example: gatectl users lock alice --ttl 2h --message \"laptop stolen\"\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    constexpr std::string_view kTool = "gatectl users lock";
    if (Status s = ValidateUserName(name_); !s.ok()) return Fail(kTool, s);
    Json::Value body(Json::objectValue);
    if (!ttl_text_.empty()) {
      auto ttl = ParseDuration(ttl_text_);
      if (!ttl) return Fail(kTool, ttl.error().WithContext("--ttl"));
      body["ttl_seconds"] = Json::Int64(ttl->count());
    }
    if (!message_.empty()) body["message"] = message_;
    auto reply = AdminCall(admin_, "POST", "/admin/v1/users/" + name_ + "/lock", &body);
    if (!reply) return Fail(kTool, reply.error());
    std::cout << "User " << name_ << " is locked";
    if (!ttl_text_.empty()) {
      std::cout << " for " << FormatDuration(std::chrono::seconds(body["ttl_seconds"].asInt64()));
    } else {
      std::cout << " until unlocked";
    }
    std::cout << ": " << (*reply)["message"].asString() << "\n";
    return kExitOk;
  }

 private:
  AdminFlags admin_;
  std::string name_;
  std::string ttl_text_;
  std::string message_;
};

}  // namespace

std::unique_ptr<Command> MakeUsersLockCommand() { return std::make_unique<UsersLockCommand>(); }

}  // namespace gate::cli
