// gatectl audit [--limit N] [--user U] [--event PREFIX] [--since T] [--failed|--ok]
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

#include "cli/common/terminal_text.h"
#include "cli/gatectl/admin_client.h"
#include "cli/gatectl/commands.h"
#include "gate/exit_code.h"
#include "gate/json.h"

namespace gate::cli {
namespace {

constexpr std::string_view kTool = "gatectl audit";

// One query parameter: the value percent-encoded (user names may hold '@').
void AddParam(std::string& query, std::string_view name, std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  query += query.empty() ? "?" : "&";
  query.append(name).append("=");
  for (unsigned char c : value) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '-';
    if (plain) {
      query.push_back(static_cast<char>(c));
    } else {
      query.push_back('%');
      query.push_back(kHex[c >> 4]);
      query.push_back(kHex[c & 15]);
    }
  }
}

// gate-ca's details name a certificate's end as "valid until <unix
// seconds>" (so the signed log stays independent of time zones); people
// read it as a UTC time.
std::string ReadableDetail(std::string detail) {
  static constexpr std::string_view kMarker = "valid until ";
  for (std::size_t at = detail.find(kMarker); at != std::string::npos;
       at = detail.find(kMarker, at + 1)) {
    const std::size_t begin = at + kMarker.size();
    std::size_t end = begin;
    while (end < detail.size() && end - begin < 12 && detail[end] >= '0' && detail[end] <= '9') {
      ++end;
    }
    if (end == begin || (end < detail.size() && detail[end] >= '0' && detail[end] <= '9')) {
      continue;
    }
    const std::string when = UtcTime(std::stoll(detail.substr(begin, end - begin))) + " UTC";
    detail.replace(begin, end - begin, when);
  }
  return detail;
}

class AuditCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    admin_.Define(sub);
    sub.add_option("--limit", limit_, "How many of the newest matching events (default 50)")
        ->check(CLI::Range(1, 10000));
    sub.add_option("--user", user_, "Only events about this gate user");
    sub.add_option("--event", event_,
                   "Only events whose name starts with this: user.login, or session. for all "
                   "of a family");
    sub.add_option("--since", since_,
                   "Only events since T: a duration back from now (2h, 30m), unix seconds, or "
                   "a UTC date or time (2026-11-25, 2026-11-25T14:00:00)");
    auto* failed = sub.add_flag("--failed", failed_, "Only refusals (denied)");
    sub.add_flag("--ok", ok_, "Only successes")->excludes(failed);
    sub.add_flag("--json", json_, "One JSON object per line instead of a table");
    sub.footer(
        "Shows gate-ca's audit log, oldest first: the newest --limit events that match.\n"
        "Columns: time (UTC), event, ok or denied, the gate user (- for none), the\n"
        "source (a client address, a node's host UUID, or admin) and the detail. The\n"
        "log holds every signup, login and second-factor check (with the reason for a\n"
        "refusal), every admin change, node join and leave, certificate issue and\n"
        "revocation, and every recorded session's start, joins, end and playback\n"
        "(docs/security.md, \"Audit log\"). It never holds a password, code or token.\n\n"
        "Examples:\n"
        "  gatectl audit --failed --since 1h            # refusals in the last hour\n"
        "  gatectl audit --user alice --event user.     # what happened to alice\n"
        "  gatectl audit --event session. --limit 200   # recorded sessions\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    std::string query;
    AddParam(query, "limit", std::to_string(limit_));
    if (!user_.empty()) AddParam(query, "user", user_);
    if (!event_.empty()) AddParam(query, "event", event_);
    if (!since_.empty()) {
      auto since = ParseSince("--since", since_, std::time(nullptr));
      if (!since) return Fail(kTool, since.error());
      AddParam(query, "since", std::to_string(*since < 0 ? 0 : *since));
    }
    if (failed_) AddParam(query, "result", "denied");
    if (ok_) AddParam(query, "result", "ok");
    auto reply = AdminCall(admin_, "GET", "/admin/v1/audit" + query);
    if (!reply) return Fail(kTool, reply.error());
    const Json::Value& events = (*reply)["events"];
    if (!events.isArray()) return Fail(kTool, DataLoss("gate-ca's reply has no event list"));
    // gate-ca answers newest first; a log reads oldest first.
    std::vector<const Json::Value*> ordered;
    for (const auto& e : events) ordered.insert(ordered.begin(), &e);
    if (json_) {
      for (const Json::Value* e : ordered) std::cout << json::Write(*e) << "\n";
      return kExitOk;
    }
    if (ordered.empty()) {
      std::cerr << kTool << ": no events match\n";
      return kExitOk;
    }
    std::printf("%-19s  %-20s  %-6s  %-20s  %-36s  %s\n", "Time (UTC)", "Event", "Result", "User",
                "Source", "Detail");
    for (const Json::Value* e : ordered) {
      const std::string user = (*e)["user"].asString();
      std::printf("%-19s  %-20s  %-6s  %-20s  %-36s  %s\n", UtcTime((*e)["time"].asInt64()).c_str(),
                  Printable((*e)["event"].asString()).c_str(),
                  (*e)["success"].asBool() ? "ok" : "denied",
                  user.empty() ? "-" : Printable(user).c_str(),
                  Printable((*e)["source"].asString()).c_str(),
                  Printable(ReadableDetail((*e)["detail"].asString())).c_str());
    }
    return kExitOk;
  }

 private:
  AdminFlags admin_;
  int limit_ = 50;
  std::string user_;
  std::string event_;
  std::string since_;
  bool failed_ = false;
  bool ok_ = false;
  bool json_ = false;
};

}  // namespace

std::unique_ptr<Command> MakeAuditCommand() { return std::make_unique<AuditCommand>(); }

}  // namespace gate::cli
