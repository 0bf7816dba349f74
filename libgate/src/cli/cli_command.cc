#include "gate/cli_command.h"

#include <iostream>
#include <map>
#include <sstream>

#include "gate/exit_code.h"

namespace gate::cli {

int RunCommandTable(CLI::App& app, const std::vector<CommandEntry>& table, int argc, char** argv) {
  app.require_subcommand(1);
  std::map<std::string, CLI::App*> groups;
  std::vector<std::pair<CLI::App*, std::unique_ptr<Command>>> commands;
  for (const auto& entry : table) {
    CLI::App* parent = &app;
    std::istringstream words(entry.path);
    std::vector<std::string> parts;
    for (std::string w; words >> w;) parts.push_back(w);
    std::string prefix;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      prefix += parts[i] + " ";
      auto it = groups.find(prefix);
      if (it == groups.end()) {
        CLI::App* group = parent->add_subcommand(parts[i], "Manage " + parts[i]);
        group->require_subcommand(1);
        it = groups.emplace(prefix, group).first;
      }
      parent = it->second;
    }
    CLI::App* sub = parent->add_subcommand(parts.back(), entry.summary);
    auto command = entry.make();
    command->Define(*sub);
    commands.emplace_back(sub, std::move(command));
  }
  // A group's one-line help names what it holds: "record on|off|status".
  for (auto& [prefix, group] : groups) {
    std::string names;
    for (const CLI::App* child : group->get_subcommands({})) {
      names += (names.empty() ? "" : "|") + child->get_name();
    }
    group->description(group->get_name() + " " + names);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  for (auto& [sub, command] : commands) {
    if (sub->parsed()) {
      try {
        return command->Run();
      } catch (const std::exception& e) {
        std::cerr << app.get_name() << ": " << e.what() << "\n";
        return kExitFailure;
      }
    }
  }
  return kExitUsage;
}

}  // namespace gate::cli
