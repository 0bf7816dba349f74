// gate sessions [--proxy HOST] [--live] [--user U] [--node N] [--since T]
//               [--limit N] [--before CURSOR]
//
// Lists the recorded sessions gate-ca holds that you may see: your own, and
// those on nodes where one of your roles lets you join sessions.
#include <time.h>

#include <cstdio>
#include <ctime>
#include <iostream>
#include <string>

#include "cli/common/profile.h"
#include "cli/common/session_api.h"
#include "cli/common/terminal_text.h"
#include "cli/gate/commands.h"
#include "gate/duration.h"
#include "gate/exit_code.h"

namespace gate::cli {
namespace {

constexpr std::string_view kTool = "gate sessions";

class SessionsCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    DefineProxyOverride(sub, flags_);
    sub.add_flag("--live", live_, "Only sessions still being recorded");
    sub.add_option("--user", query_.user, "Only sessions of this Gate user");
    sub.add_option("--node", query_.node, "Only sessions on this node (name or host UUID)");
    sub.add_option("--since", since_,
                   "Only sessions started since T: a duration back from now (2h, 30m), unix "
                   "seconds, or a UTC date or time (2026-11-25, 2026-11-25T14:00:00); live "
                   "sessions are always listed");
    sub.add_option("--limit", query_.limit, "At most N sessions, newest first (default 100)")
        ->check(CLI::Range(1, 1000));
    sub.add_option("--before", query_.before,
                   "The next page: the cursor the previous page printed (with the same filters)");
    sub.footer(
        "Lists recorded sessions that gate-ca has received from the nodes: your own, and\n"
        "those on nodes where one of your roles allows joining sessions (join_sessions).\n"
        "Columns: session ID (give it to gate play), Gate user, OS login, node, start\n"
        "(UTC), duration (so far, for a live session) and state: live, ended, or\n"
        "\"ended, unverified\" when gate-ca could not verify the recording's signed\n"
        "checkpoints (the reason is in gate-ca's audit log).\n"
        "The request is signed with the key and certificate of your last gate login;\n"
        "log in again when the certificate has expired.\n"
        "A page with more after it ends with how to get the next one (on stderr, so the table\n"
        "stays clean in a pipe): the same filters and --before CURSOR.\n\n"
        "Examples:\n"
        "  gate sessions --live\n"
        "  gate sessions --user alice --since 24h\n"
        "  gate play 6f1c3a2e-....\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    if (!since_.empty()) {
      auto since = ParseSince("--since", since_, now);
      if (!since) return Fail(kTool, since.error());
      query_.since = *since;
    }
    if (live_) query_.live = true;
    auto store = ProfileStore::Default();
    if (!store) return Fail(kTool, store.error());
    auto client = SessionClient::FromProfile(*store, flags_, now);
    if (!client) return Fail(kTool, client.error());
    auto reply = client->List(query_);
    if (!reply) return Fail(kTool, reply.error());

    const Json::Value& sessions = (*reply)["sessions"];
    std::printf("%-36s  %-16s  %-12s  %-20s  %-19s  %-10s  %s\n", "ID", "USER", "LOGIN", "NODE",
                "START", "DURATION", "STATE");
    for (const Json::Value& s : sessions) {
      const std::int64_t started = s["started_at"].asInt64();
      const bool live = s["live"].asBool();
      const std::int64_t end = live ? now : s["ended_at"].asInt64();
      const std::string duration =
          FormatDuration(std::chrono::seconds(end > started ? end - started : 0));
      std::string state = live ? "live" : "ended";
      if (!live && !s["verified"].asBool()) state += ", unverified";
      std::printf("%-36s  %-16s  %-12s  %-20s  %-19s  %-10s  %s\n",
                  Printable(s["id"].asString()).c_str(), Printable(s["user"].asString()).c_str(),
                  Printable(s["login"].asString()).c_str(),
                  Printable(s["node_name"].asString()).c_str(), UtcTime(started).c_str(),
                  duration.c_str(), state.c_str());
    }
    if (sessions.empty()) std::fprintf(stderr, "%s: no recorded sessions match\n", kTool.data());
    if (const Json::Value& next = (*reply)["next_before"]; next.isString()) {
      std::fprintf(stderr, "%s: more sessions: add --before %s for the next page\n", kTool.data(),
                   Printable(next.asString()).c_str());
    }
    return kExitOk;
  }

 private:
  ProxyFlags flags_;
  SessionQuery query_;
  std::string since_;
  bool live_ = false;
};

}  // namespace

std::unique_ptr<Command> MakeSessionsCommand() { return std::make_unique<SessionsCommand>(); }

}  // namespace gate::cli
