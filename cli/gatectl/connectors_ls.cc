// gatectl connectors ls
#include <cstdio>
#include <string>

#include "cli/gatectl/admin_client.h"
#include "cli/gatectl/commands.h"
#include "gate/exit_code.h"

namespace gate::cli {
namespace {

class ConnectorsLsCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    admin_.Define(sub);
    sub.footer(
        "Columns: connector (* marks the default one, which gate login uses without\n"
        "--auth when authentication.type is not local), type, the identity provider's\n"
        "issuer URL, gate's client id there, and where the connector is declared\n"
        "(gate.yaml: docs/connectors.md).\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    auto reply = AdminCall(admin_, "GET", "/admin/v1/connectors");
    if (!reply) return Fail("gatectl connectors ls", reply.error());
    std::printf("Authentication type: %s\n", (*reply)["authentication_type"].asCString());
    std::printf("%-18s %-6s %-40s %-16s %s\n", "Connector", "Type", "Issuer", "Client ID",
                "Source");
    for (const auto& c : (*reply)["connectors"]) {
      const std::string name = c["name"].asString() + (c["default"].asBool() ? " *" : "");
      std::printf("%-18s %-6s %-40s %-16s %s\n", name.c_str(), c["type"].asCString(),
                  c["issuer_url"].asCString(), c["client_id"].asCString(), c["source"].asCString());
    }
    return kExitOk;
  }

 private:
  AdminFlags admin_;
};

}  // namespace

std::unique_ptr<Command> MakeConnectorsLsCommand() {
  return std::make_unique<ConnectorsLsCommand>();
}

}  // namespace gate::cli
