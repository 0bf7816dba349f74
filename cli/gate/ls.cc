// gate ls [--proxy HOST]: the nodes you may log into, with their labels and
// your logins there (as `tsh ls` lists them).
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

#include "cli/common/profile.h"
#include "cli/common/session_api.h"
#include "cli/common/terminal_text.h"
#include "cli/gate/commands.h"
#include "gate/exit_code.h"
#include "gate/json.h"

namespace gate::cli {
namespace {

constexpr std::string_view kTool = "gate ls";

std::string JoinPrintable(const Json::Value& list, std::string_view sep) {
  std::string out;
  for (const Json::Value& v : list) {
    if (!out.empty()) out += sep;
    out += Printable(v.asString());
  }
  return out;
}

std::string LabelsText(const Json::Value& labels) {
  std::string out;
  if (!labels.isObject()) return out;
  for (const std::string& key : labels.getMemberNames()) {
    if (!out.empty()) out += ",";
    out += Printable(key) + "=" + Printable(labels[key].asString());
  }
  return out;
}

class LsCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    DefineProxyOverride(sub, flags_);
    sub.add_flag("--json", json_, "The nodes as gate-ca lists them, one JSON document");
    sub.footer(
        "Lists the cluster's nodes that you may log into: the node's name, the names its\n"
        "host certificate certifies (what to give ssh or gate ssh), its labels and your\n"
        "logins there (your own logins, and those of your roles that select the node).\n"
        "The request is signed with the key and certificate of your last gate login.\n\n"
        "Example:\n"
        "  gate ls\n"
        "  gate ssh LOGIN@NODE\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    auto store = ProfileStore::Default();
    if (!store) return Fail(kTool, store.error());
    auto client = SessionClient::FromProfile(*store, flags_, now);
    if (!client) return Fail(kTool, client.error());
    auto reply = client->Nodes();
    if (!reply) return Fail(kTool, reply.error());
    if (json_) {
      std::cout << json::Write(*reply) << "\n";
      return kExitOk;
    }
    const Json::Value& nodes = (*reply)["nodes"];
    std::vector<std::vector<std::string>> rows = {{"Node Name", "Address", "Labels", "Logins"}};
    for (const Json::Value& n : nodes) {
      rows.push_back({Printable(n["name"].asString()), JoinPrintable(n["principals"], ","),
                      LabelsText(n["labels"]), JoinPrintable(n["logins"], ", ")});
    }
    std::vector<std::size_t> width(4, 0);
    for (const auto& row : rows) {
      for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    }
    for (std::size_t r = 0; r < rows.size(); ++r) {
      std::string line;
      for (std::size_t i = 0; i < 4; ++i) {
        std::string cell = rows[r][i];
        if (i + 1 < 4) cell.resize(width[i] + 2, ' ');
        line += cell;
      }
      std::cout << line << "\n";
      if (r == 0) {
        std::string rule;
        for (std::size_t i = 0; i < 4; ++i) {
          rule += std::string(width[i], '-') + (i + 1 < 4 ? "  " : "");
        }
        std::cout << rule << "\n";
      }
    }
    if (nodes.empty()) {
      std::cerr << kTool << ": no nodes of " << Printable((*reply)["cluster_name"].asString())
                << " that you may log into\n";
    }
    return kExitOk;
  }

 private:
  ProxyFlags flags_;
  bool json_ = false;
};

}  // namespace

std::unique_ptr<Command> MakeLsCommand() { return std::make_unique<LsCommand>(); }

}  // namespace gate::cli
