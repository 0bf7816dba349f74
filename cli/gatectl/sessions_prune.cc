// gatectl sessions prune --older-than DURATION [--dry-run]
#include <cstdio>
#include <iostream>
#include <string>

#include "cli/common/terminal_text.h"
#include "cli/gatectl/admin_client.h"
#include "cli/gatectl/commands.h"
#include "gate/duration.h"
#include "gate/exit_code.h"

namespace gate::cli {
namespace {

constexpr std::string_view kTool = "gatectl sessions prune";

// "90d" (whole days, what retention is written in), or a duration as
// ParseDuration takes it ("36h", "90m").
Result<std::int64_t> ParseAge(const std::string& text) {
  constexpr std::int64_t kMaxDays = 3650;
  if (text.size() >= 2 && text.back() == 'd' && text.size() <= 5 &&
      text.find_first_not_of("0123456789") == text.size() - 1) {
    const std::int64_t days = std::stoll(text.substr(0, text.size() - 1));
    if (days < 1 || days > kMaxDays) {
      return Err(InvalidArgument("--older-than: 1d to " + std::to_string(kMaxDays) + "d"));
    }
    return days * 86400;
  }
  auto d = ParseDuration(text);
  if (!d) return Err(d.error().WithContext("--older-than (90d, 36h, 30m)"));
  return static_cast<std::int64_t>(d->count());
}

// "812 B", "12.3 KiB", "4.0 MiB".
std::string Size(std::uint64_t bytes) {
  char buf[32];
  const auto b = static_cast<double>(bytes);
  if (bytes < 1024) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else if (bytes < 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1024.0 * 1024.0));
  }
  return buf;
}

class SessionsPruneCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    admin_.Define(sub);
    sub.add_option("--older-than", older_than_,
                   "Remove recordings gate-ca finished receiving longer ago than this: whole "
                   "days (90d) or h/m/s (36h, 30m)")
        ->required();
    sub.add_flag("--dry-run", dry_run_, "Only list what would be removed");
    sub.footer(
        "Removes recorded sessions gate-ca finished receiving (completed) more than\n"
        "--older-than ago: the recording file, then its index entry, each audited as\n"
        "session.delete. Live uploads are never touched. Prints one line per session\n"
        "and a total. Safe to interrupt and run again. gate-sessions-prune.timer runs\n"
        "it daily with --older-than 90d once enabled (docs/recording.md, \"Retention\").\n\n"
        "Examples:\n"
        "  gatectl sessions prune --older-than 90d --dry-run\n"
        "  gatectl sessions prune --older-than 365d\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    auto age = ParseAge(older_than_);
    if (!age) return Fail(kTool, age.error());
    Json::Value body;
    body["older_than_seconds"] = Json::Int64(*age);
    body["dry_run"] = dry_run_;
    std::uint64_t count = 0, bytes = 0;
    std::int64_t before = 0;
    for (;;) {
      auto reply = AdminCall(admin_, "POST", "/admin/v1/sessions/prune", &body);
      if (!reply) return Fail(kTool, reply.error());
      before = (*reply)["before"].asInt64();
      for (const auto& s : (*reply)["sessions"]) {
        std::printf(
            "%s  %-20s %s@%s  completed %s  %s\n", Printable(s["id"].asString()).c_str(),
            Printable(s["user"].asString()).c_str(), Printable(s["login"].asString()).c_str(),
            Printable(s["node_name"].asString()).c_str(),
            UtcTime(s["completed_at"].asInt64()).c_str(), Size(s["size"].asUInt64()).c_str());
        ++count;
      }
      bytes += (*reply)["bytes"].asUInt64();
      // A dry run lists one batch; removing goes on until nothing is left.
      if (!(*reply)["more"].asBool()) break;
      if (dry_run_) {
        std::cout << "(and more)\n";
        break;
      }
    }
    std::cout << (dry_run_ ? "would remove " : "removed ") << count << " recordings ("
              << Size(bytes) << ") completed before " << UtcTime(before) << " UTC\n";
    return kExitOk;
  }

 private:
  AdminFlags admin_;
  std::string older_than_;
  bool dry_run_ = false;
};

}  // namespace

std::unique_ptr<Command> MakeSessionsPruneCommand() {
  return std::make_unique<SessionsPruneCommand>();
}

}  // namespace gate::cli
