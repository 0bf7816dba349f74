// gate scp [SCP FLAGS] SOURCE... TARGET: scp with the current gate login
// (cli/common/openssh.h), remote paths written [LOGIN@]NODE:PATH.
#include <ctime>
#include <string>
#include <vector>

#include "cli/common/openssh.h"
#include "cli/common/profile.h"
#include "cli/gate/commands.h"
#include "gate/exit_code.h"

namespace gate::cli {
namespace {

constexpr std::string_view kTool = "gate scp";

class ScpCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    sub_ = &sub;
    // Every argument is scp's (-r, -P PORT, -p, ...).
    sub.allow_extras();
    sub.prefix_command();
    sub.footer(
        "Runs scp with the key and certificate of your current gate login and the\n"
        "cluster's host CA, checking host certificates strictly. The arguments are\n"
        "scp's own.\n\n"
        "Examples:\n"
        "  gate scp report.txt alice@node1:/tmp/\n"
        "  gate scp -r -P 2222 alice@node1:/var/log/app ./logs\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    const std::vector<std::string> words = sub_->remaining();
    if (words.size() < 2) {
      return Fail(kTool, InvalidArgument("give at least a source and a target, as to scp"));
    }
    auto store = ProfileStore::Default();
    if (!store) return Fail(kTool, store.error());
    auto profile = UsableProfile(*store, static_cast<std::int64_t>(std::time(nullptr)));
    if (!profile) return Fail(kTool, profile.error());
    std::vector<std::string> args = {"scp"};
    for (std::string& o : OpenSshOptions(*store)) args.push_back(std::move(o));
    args.insert(args.end(), words.begin(), words.end());
    auto status = RunAndWait(args);
    if (!status) return Fail(kTool, status.error());
    return *status;
  }

 private:
  CLI::App* sub_ = nullptr;
};

}  // namespace

std::unique_ptr<Command> MakeScpCommand() { return std::make_unique<ScpCommand>(); }

}  // namespace gate::cli
