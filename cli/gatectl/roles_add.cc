// gatectl roles add NAME [--logins a,b] [--node-labels env=dev,team=*] [--max-ttl 8h]
//                   [--permit-pty=false] [--permit-port-forwarding=false]
//                   [--permit-agent-forwarding=false] [--record-sessions]
//                   [--join-sessions] [--replace]
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

class RolesAddCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    admin_.Define(sub);
    sub.add_option("name", name_, "Role name: letters, digits and . _ @ - (at most 64)")
        ->required();
    sub.add_option("--logins", logins_, "OS logins the role grants, comma separated");
    sub.add_option("--node-labels", node_labels_,
                   "Which nodes the logins apply on, as label=value pairs, comma separated; a\n"
                   "value of * matches any value of that label (default *=*: every node)");
    sub.add_option("--max-ttl", max_ttl_,
                   "Cap on the lifetime of certificates issued to holders (e.g. 8h; default:\n"
                   "only the cluster's max_cert_ttl)");
    sub.add_flag("--permit-pty", permit_pty_,
                 "Allow a terminal; --permit-pty=false for command-only access (default true)");
    sub.add_flag("--permit-port-forwarding", permit_port_forwarding_,
                 "Allow ssh -L/-R/-D (default true)");
    sub.add_flag("--permit-agent-forwarding", permit_agent_forwarding_,
                 "Allow ssh -A (default true)");
    sub.add_flag("--record-sessions", record_sessions_,
                 "Record every session of the role's holders on the nodes it selects, whichever\n"
                 "login they use (default false; docs/recording.md)");
    sub.add_flag("--join-sessions", join_sessions_,
                 "Let holders join other users' recorded sessions on the nodes it selects\n"
                 "(gate join; default false)");
    sub.add_flag("--replace", replace_, "Replace the role if it exists (all fields, as given)");
    sub.footer(
        "A role grants its logins on the nodes whose labels match --node-labels: every\n"
        "pair must match (env=dev,team=* selects nodes labelled env=dev that have any\n"
        "team label); *=* selects every node. A user's certificate carries the logins of\n"
        "all the user's roles plus the user's own; each node then allows only the logins\n"
        "of roles that select it. The certificate lifetime is capped by the smallest\n"
        "--max-ttl among the user's roles, and a permit-* extension is included only if\n"
        "every one of the user's roles permits it.\n\n"
        "--record-sessions: on the nodes the role selects, sshd runs every session of its\n"
        "holders under the recorder (gate-principals adds command=\"gate-record\" to the\n"
        "principal line), whichever login they use, even one another role or their own\n"
        "list grants; those nodes need `gate-node record on` (or --roles-only) first.\n"
        "--join-sessions: holders may join recorded sessions live (gate join) on the\n"
        "nodes the role selects.\n\n"
        "Changes reach nodes at their next policy sync (within a minute) and apply to\n"
        "certificates issued from then on.\n\n"
        "Examples:\n"
        "  gatectl roles add dev --logins ubuntu,deploy --node-labels env=dev --max-ttl 8h\n"
        "  gatectl roles add dba --logins postgres --node-labels env=prod,team=db \\\n"
        "      --permit-port-forwarding=false --permit-agent-forwarding=false\n"
        "  gatectl roles add auditors --logins root --record-sessions\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    constexpr std::string_view kTool = "gatectl roles add";
    if (Status s = policy::ValidateRoleName(name_); !s.ok()) return Fail(kTool, s);
    Json::Value body;
    body["name"] = name_;
    body["logins"] = Json::Value(Json::arrayValue);
    if (!logins_.empty()) {
      auto logins = ParseLoginList(logins_);
      if (!logins) return Fail(kTool, logins.error().WithContext("--logins"));
      body["logins"] = json::StringArray(*logins);
    }
    if (!node_labels_.empty()) {
      auto labels = LabelsFlag("--node-labels", node_labels_);
      if (!labels) return Fail(kTool, labels.error());
      body["node_labels"] = *labels;
    }
    if (!max_ttl_.empty()) {
      auto ttl = ParseDuration(max_ttl_);
      if (!ttl) return Fail(kTool, ttl.error().WithContext("--max-ttl"));
      body["max_ttl_seconds"] = Json::Int64(ttl->count());
    }
    body["permit_pty"] = permit_pty_;
    body["permit_port_forwarding"] = permit_port_forwarding_;
    body["permit_agent_forwarding"] = permit_agent_forwarding_;
    body["record_sessions"] = record_sessions_;
    body["join_sessions"] = join_sessions_;
    auto reply = replace_ ? AdminCall(admin_, "PUT", "/admin/v1/roles/" + name_, &body)
                          : AdminCall(admin_, "POST", "/admin/v1/roles", &body);
    if (!reply) return Fail(kTool, reply.error());
    std::cout << "Role " << name_ << (replace_ ? " replaced" : " created") << ": logins "
              << JoinArray((*reply)["logins"]) << " on nodes matching "
              << JoinLabels((*reply)["node_labels"])
              << ((*reply)["record_sessions"].asBool() ? "; sessions recorded" : "")
              << ((*reply)["join_sessions"].asBool() ? "; may join sessions" : "") << ".\n";
    return kExitOk;
  }

 private:
  AdminFlags admin_;
  std::string name_;
  std::string logins_;
  std::string node_labels_;
  std::string max_ttl_;
  bool permit_pty_ = true;
  bool permit_port_forwarding_ = true;
  bool permit_agent_forwarding_ = true;
  bool record_sessions_ = false;
  bool join_sessions_ = false;
  bool replace_ = false;
};

}  // namespace

std::unique_ptr<Command> MakeRolesAddCommand() { return std::make_unique<RolesAddCommand>(); }

}  // namespace gate::cli
