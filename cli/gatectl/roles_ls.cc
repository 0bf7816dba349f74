// gatectl roles ls
#include <chrono>
#include <cstdio>
#include <string>

#include "cli/gatectl/admin_client.h"
#include "cli/gatectl/commands.h"
#include "gate/duration.h"
#include "gate/exit_code.h"

namespace gate::cli {
namespace {

// The permit-* flags a role turns off, or "-" when it allows all.
std::string Denied(const Json::Value& role) {
  std::string out;
  for (const auto& [field, name] :
       {std::pair{"permit_pty", "pty"}, std::pair{"permit_port_forwarding", "port-forwarding"},
        std::pair{"permit_agent_forwarding", "agent-forwarding"}}) {
    if (!role[field].asBool()) out += (out.empty() ? "no " : ",") + std::string(name);
  }
  return out.empty() ? "-" : out;
}

// What the role does with recorded sessions: "record", "join", both, or "-".
std::string Sessions(const Json::Value& role) {
  std::string out;
  if (role["record_sessions"].asBool()) out = "record";
  if (role["join_sessions"].asBool()) out += out.empty() ? "join" : ",join";
  return out.empty() ? "-" : out;
}

class RolesLsCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    admin_.Define(sub);
    sub.footer(
        "Columns: role, the logins it grants, the node labels it selects (*=* is every\n"
        "node), its certificate lifetime cap, what it does with recorded sessions (record:\n"
        "its holders' sessions are recorded on those nodes; join: its holders may join\n"
        "recorded sessions there; - for neither), and the permit-* extensions it withholds.\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    auto reply = AdminCall(admin_, "GET", "/admin/v1/roles");
    if (!reply) return Fail("gatectl roles ls", reply.error());
    std::printf("%-16s %-24s %-24s %-8s %-12s %s\n", "Role", "Logins", "Node labels", "Max TTL",
                "Sessions", "Restrictions");
    for (const auto& role : (*reply)["roles"]) {
      const std::int64_t ttl = role["max_ttl_seconds"].asInt64();
      const std::string ttl_text = ttl == 0 ? "-" : FormatDuration(std::chrono::seconds(ttl));
      std::printf("%-16s %-24s %-24s %-8s %-12s %s\n", role["name"].asCString(),
                  JoinArray(role["logins"]).c_str(), JoinLabels(role["node_labels"]).c_str(),
                  ttl_text.c_str(), Sessions(role).c_str(), Denied(role).c_str());
    }
    return kExitOk;
  }

 private:
  AdminFlags admin_;
};

}  // namespace

std::unique_ptr<Command> MakeRolesLsCommand() { return std::make_unique<RolesLsCommand>(); }

}  // namespace gate::cli
