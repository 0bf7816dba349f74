// gatectl certs revoke --serial N | --user NAME
#include <iostream>

#include "cli/gatectl/admin_client.h"
#include "cli/gatectl/commands.h"
#include "gate/exit_code.h"
#include "gate/names.h"

namespace gate::cli {
namespace {

class CertsRevokeCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    admin_.Define(sub);
    auto* serial = sub.add_option("--serial", serial_,
                                  "Revoke the certificate with this serial (decimal, as\n"
                                  "ssh-keygen -L and gate status show it)");
    auto* user = sub.add_option("--user", user_, "Revoke every unexpired certificate of this user");
    serial->excludes(user);
    sub.footer(
        "Revoked serials go into the revocation list (KRL) nodes install as sshd's\n"
        "RevokedKeys, and into their policy cache; nodes refuse those certificates from\n"
        "their next policy sync (within a minute). A serial stays in the list until the\n"
        "certificate would have expired anyway. --user revokes only certificates issued\n"
        "so far; to keep the user from getting new ones, also run gatectl users lock.\n\n"
        "Examples:\n"
        "  gatectl certs revoke --serial 1234567890123456789\n"
        "  gatectl certs revoke --user alice\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    constexpr std::string_view kTool = "gatectl certs revoke";
    if (serial_.empty() == user_.empty()) {
      return Fail(kTool, InvalidArgument("give --serial or --user"));
    }
    Json::Value body;
    if (!serial_.empty()) {
      body["serial"] = serial_;
    } else {
      if (Status s = ValidateUserName(user_); !s.ok()) return Fail(kTool, s);
      body["user"] = user_;
    }
    auto reply = AdminCall(admin_, "POST", "/admin/v1/certs/revoke", &body);
    if (!reply) return Fail(kTool, reply.error());
    const Json::Value& revoked = (*reply)["revoked"];
    if (revoked.empty()) {
      std::cout << "User " << user_ << " has no unexpired certificates to revoke.\n";
      return kExitOk;
    }
    std::cout << "Revoked " << revoked.size()
              << (revoked.size() == 1 ? " certificate" : " certificates") << ", serial"
              << (revoked.size() == 1 ? " " : "s ") << JoinArray(revoked, ", ") << ".\n";
    return kExitOk;
  }

 private:
  AdminFlags admin_;
  std::string serial_;
  std::string user_;
};

}  // namespace

std::unique_ptr<Command> MakeCertsRevokeCommand() { return std::make_unique<CertsRevokeCommand>(); }

}  // namespace gate::cli
