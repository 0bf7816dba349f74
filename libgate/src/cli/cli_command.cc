#include "gate/cli_command.h"

#include <algorithm>
#include <iostream>
#include <map>
#include <sstream>
#include <string_view>

#include "gate/exit_code.h"

namespace gate::cli {
namespace {

// Edits (insert, delete, substitute, swap two neighbours) from a to b: the
// optimal string alignment distance, where "usres" is one typo from "users".
std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// The candidate closest to word, if it is close enough to be a typo (at
// most a third of the word's letters, and at least 1, wrong); "" if none.
std::string Nearest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(1, word.size() / 3) + 1;
  for (const std::string& c : candidates) {
    const std::size_t d = EditDistance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

std::string CommandPath(const CLI::App* app) {
  std::string path;
  for (; app != nullptr; app = app->get_parent()) {
    path = app->get_name() + (path.empty() ? "" : " " + path);
  }
  return path;
}

// argv's leading words name subcommands of app, its groups' and so on: the
// first one that does not, where a subcommand is due, is a mistyped
// command. Prints what it meant and returns true; false if the words are
// commands (or there are none, which CLI11 reports itself).
bool ReportUnknownCommand(const CLI::App& app, int argc, char** argv) {
  const CLI::App* level = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.empty() || word[0] == '-') return false;
    std::vector<std::string> names;
    for (const CLI::App* sub : level->get_subcommands({})) names.push_back(sub->get_name());
    if (names.empty()) return false;
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : level->get_subcommands({})) {
      if (sub->get_name() == word) next = sub;
    }
    if (next == nullptr) {
      std::cerr << CommandPath(level) << ": '" << word.substr(0, 64) << "' is not a command";
      if (const std::string near = Nearest(word, names); !near.empty()) {
        std::cerr << "; did you mean '" << CommandPath(level) << " " << near << "'?\n";
      } else {
        std::cerr << ". Commands: ";
        for (std::size_t n = 0; n < names.size(); ++n) std::cerr << (n ? ", " : "") << names[n];
        std::cerr << "\n";
      }
      std::cerr << "Run " << CommandPath(level) << " --help for more.\n";
      return true;
    }
    level = next;
  }
  return false;
}

// After a parse error about arguments the chosen command does not take:
// for each one that looks like a flag, the nearest flag it does take.
void SuggestFlags(const CLI::App& app, int argc, char** argv) {
  const CLI::App* level = &app;
  for (int i = 1; i < argc; ++i) {
    bool found = false;
    for (const CLI::App* sub : level->get_subcommands({})) {
      if (sub->get_name() == argv[i]) {
        level = sub;
        found = true;
      }
    }
    if (!found && argv[i][0] != '-') break;
  }
  std::vector<std::string> flags;
  for (const CLI::App* a = level; a != nullptr; a = a->get_parent()) {
    for (const CLI::Option* opt : a->get_options()) {
      for (const std::string& name : opt->get_lnames()) flags.push_back("--" + name);
    }
  }
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word.rfind("--", 0) != 0) continue;
    word = word.substr(0, word.find('='));
    if (std::find(flags.begin(), flags.end(), word) != flags.end()) continue;
    if (const std::string near = Nearest(word, flags); !near.empty()) {
      std::cerr << CommandPath(level) << ": unknown flag " << word.substr(0, 64)
                << "; did you mean " << near << "?\n";
    }
  }
}

}  // namespace

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

  if (ReportUnknownCommand(app, argc, argv)) return kExitUsage;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    if (code != 0) SuggestFlags(app, argc, argv);
    return code == 0 ? kExitOk : kExitUsage;
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
