// gatectl ca export --type user|host
#include <iostream>

#include "cli/gatectl/admin_client.h"
#include "cli/gatectl/commands.h"
#include "gate/exit_code.h"

namespace gate::cli {
namespace {

class CaExportCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    admin_.Define(sub);
    sub.add_option("--type", type_, "Which CA: user or host")
        ->required()
        ->check(CLI::IsMember({"user", "host"}));
    sub.add_flag("--known-hosts", known_hosts_,
                 "For --type host: print a known_hosts @cert-authority line");
    sub.footer(
        "user: a line for sshd's TrustedUserCAKeys file, so sshd accepts gate certificates:\n"
        "  gatectl ca export --type user > /etc/ssh/gate_user_ca.pub\n"
        "  echo 'TrustedUserCAKeys /etc/ssh/gate_user_ca.pub' >> /etc/ssh/sshd_config\n"
        "host: the host CA, for clients' known_hosts (gate login writes it for you):\n"
        "  gatectl ca export --type host --known-hosts >> ~/.ssh/known_hosts");
  }

  int Run() override {
    if (known_hosts_ && type_ != "host") {
      return Fail("gatectl ca export", InvalidArgument("--known-hosts goes with --type host"));
    }
    auto reply = AdminCall(admin_, "GET", "/admin/v1/ca/" + type_);
    if (!reply) return Fail("gatectl ca export", reply.error());
    for (const auto& key : (*reply)["keys"]) {
      std::cout << (known_hosts_ ? "@cert-authority * " : "") << key.asString() << "\n";
    }
    return kExitOk;
  }

 private:
  AdminFlags admin_;
  std::string type_;
  bool known_hosts_ = false;
};

}  // namespace

std::unique_ptr<Command> MakeCaExportCommand() { return std::make_unique<CaExportCommand>(); }

}  // namespace gate::cli
