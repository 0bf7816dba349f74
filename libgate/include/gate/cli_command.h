// The command table gate, gatectl and gate-node are built from: each command
// is one file that defines its flags on a CLI11 subcommand and runs when
// chosen. Part of gate::cli (libgate/CMakeLists.txt), the library the
// command-line programs link; nothing else pulls in CLI11.
#ifndef GATE_CLI_COMMAND_H_
#define GATE_CLI_COMMAND_H_

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gate::cli {

class Command {
 public:
  virtual ~Command() = default;
  // Adds flags and positionals to sub (already named and described).
  virtual void Define(CLI::App& sub) = 0;
  // Runs after parsing; returns the process exit code.
  virtual int Run() = 0;
};

struct CommandEntry {
  std::string path;     // "login", or "users add" for nested commands
  std::string summary;  // one line for the parent's --help
  std::function<std::unique_ptr<Command>()> make;
};

// Builds the subcommand tree from the table, parses argv and runs the chosen
// command. Returns the exit code (2 on usage errors, after printing them).
int RunCommandTable(CLI::App& app, const std::vector<CommandEntry>& table, int argc, char** argv);

}  // namespace gate::cli

#endif  // GATE_CLI_COMMAND_H_
