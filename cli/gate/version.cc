// gate version: this program's version (also gate --version).
#include <iostream>

#include "cli/gate/commands.h"
#include "gate/exit_code.h"

namespace gate::cli {
namespace {

class VersionCommand final : public Command {
 public:
  void Define(CLI::App& sub) override { sub.footer("Same as gate --version."); }

  int Run() override {
    std::cout << GateVersionLine() << "\n";
    return kExitOk;
  }
};

}  // namespace

std::string GateVersionLine() { return std::string("gate v") + GATE_VERSION; }

std::unique_ptr<Command> MakeVersionCommand() { return std::make_unique<VersionCommand>(); }

}  // namespace gate::cli
