// gatectl roles update NAME [--logins a,b] [--node-labels env=dev] [--max-ttl 8h|0]
//                      [--permit-pty[=false]] [--permit-port-forwarding[=false]]
//                      [--permit-agent-forwarding[=false]] [--record-sessions[=false]]
//                      [--join-sessions[=false]]
#include <iostream>

#include "cli/gatectl/admin_client.h"
#include "cli/gatectl/commands.h"
#include "gate/duration.h"
#include "gate/exit_code.h"
#include "gate/json.h"
#include "gate/names.h"
#include "gate/policy.h"

namespace gate::cli {
namespace {

// One boolean role field and the flag that sets it.
struct BoolFlag {
  const char* flag;
  const char* field;
  const char* help;
  bool value = false;
  CLI::Option* option = nullptr;
};

class RolesUpdateCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    admin_.Define(sub);
    sub.add_option("name", name_, "The role to change")->required();
    logins_opt_ = sub.add_option("--logins", logins_,
                                 "Replace the OS logins the role grants (comma separated; \"\" "
                                 "for none)");
    labels_opt_ = sub.add_option("--node-labels", node_labels_,
                                 "Replace the node selector (label=value pairs, comma separated; "
                                 "*=* for every node)");
    ttl_opt_ = sub.add_option("--max-ttl", max_ttl_,
                              "Replace the certificate lifetime cap (e.g. 8h; 0 for no cap)");
    for (BoolFlag& f : flags_) f.option = sub.add_flag(f.flag, f.value, f.help);
    sub.footer(
        "Changes only the settings given; every other setting of the role stays as it\n"
        "is (PATCH /admin/v1/roles/NAME). Boolean settings take =true or =false; the bare\n"
        "flag means true. Give at least one setting. The result is checked as a whole,\n"
        "as `roles add` checks a new role, and printed.\n\n"
        "--record-sessions=true makes every session of the role's holders on the nodes\n"
        "it selects run under the recorder, whichever login they use; those nodes need\n"
        "`gate-node record on` (or `record on --roles-only`). --join-sessions=true lets\n"
        "holders join recorded sessions there (gate join). See docs/recording.md.\n\n"
        "Changes reach nodes at their next policy sync (within a minute). Certificates\n"
        "already issued keep the logins and extensions they carry until they expire;\n"
        "recording and joining are decided on the node at each login.\n\n"
        "Examples:\n"
        "  gatectl roles update dba --record-sessions=true\n"
        "  gatectl roles update dev --logins ubuntu,deploy --max-ttl 0\n"
        "  gatectl roles update ops --join-sessions --permit-agent-forwarding=false\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    constexpr std::string_view kTool = "gatectl roles update";
    if (Status s = policy::ValidateRoleName(name_); !s.ok()) return Fail(kTool, s);
    Json::Value body(Json::objectValue);
    if (logins_opt_->count() > 0) {
      body["logins"] = Json::Value(Json::arrayValue);
      if (!logins_.empty()) {
        auto logins = ParseLoginList(logins_);
        if (!logins) return Fail(kTool, logins.error().WithContext("--logins"));
        body["logins"] = json::StringArray(*logins);
      }
    }
    if (labels_opt_->count() > 0) {
      auto labels = LabelsFlag("--node-labels", node_labels_);
      if (!labels) return Fail(kTool, labels.error());
      body["node_labels"] = *labels;
    }
    if (ttl_opt_->count() > 0) {
      std::int64_t seconds = 0;
      if (max_ttl_ != "0") {
        auto ttl = ParseDuration(max_ttl_);
        if (!ttl) return Fail(kTool, ttl.error().WithContext("--max-ttl"));
        seconds = ttl->count();
      }
      body["max_ttl_seconds"] = Json::Int64(seconds);
    }
    for (const BoolFlag& f : flags_) {
      if (f.option->count() > 0) body[f.field] = f.value;
    }
    if (body.empty()) {
      return Fail(kTool, InvalidArgument("nothing to change; give at least one setting (see "
                                         "--help)"));
    }
    auto reply = AdminCall(admin_, "PATCH", "/admin/v1/roles/" + name_, &body);
    if (!reply) return Fail(kTool, reply.error());
    std::cout << "Role " << name_ << " updated: logins " << JoinArray((*reply)["logins"])
              << " on nodes matching " << JoinLabels((*reply)["node_labels"])
              << "; record sessions " << ((*reply)["record_sessions"].asBool() ? "yes" : "no")
              << ", join sessions " << ((*reply)["join_sessions"].asBool() ? "yes" : "no") << ".\n";
    return kExitOk;
  }

 private:
  AdminFlags admin_;
  std::string name_;
  std::string logins_;
  std::string node_labels_;
  std::string max_ttl_;
  CLI::Option* logins_opt_ = nullptr;
  CLI::Option* labels_opt_ = nullptr;
  CLI::Option* ttl_opt_ = nullptr;
  BoolFlag flags_[5] = {
      {"--permit-pty", "permit_pty", "Allow a terminal (=false: command-only access)"},
      {"--permit-port-forwarding", "permit_port_forwarding", "Allow ssh -L/-R/-D"},
      {"--permit-agent-forwarding", "permit_agent_forwarding", "Allow ssh -A"},
      {"--record-sessions", "record_sessions",
       "Record every session of the role's holders on the nodes it selects"},
      {"--join-sessions", "join_sessions",
       "Let holders join other users' recorded sessions on the nodes it selects"},
  };
};

}  // namespace

std::unique_ptr<Command> MakeRolesUpdateCommand() { return std::make_unique<RolesUpdateCommand>(); }

}  // namespace gate::cli
