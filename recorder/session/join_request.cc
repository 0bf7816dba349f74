#include "recorder/session/join_request.h"

#include <time.h>
#include <unistd.h>

#include <vector>

#include "gate/exit_code.h"
#include "gate/join_client.h"
#include "gate/live_session.h"
#include "gate/log.h"
#include "recorder/session/session_files.h"

namespace gate::recorder {
namespace {

std::vector<std::string_view> Words(std::string_view command) {
  std::vector<std::string_view> words;
  std::size_t start = 0;
  for (;;) {
    const std::size_t space = command.find(' ', start);
    words.push_back(command.substr(start, space - start));
    if (space == std::string_view::npos) return words;
    start = space + 1;
  }
}

int Refused(const std::string& who, const Status& why) {
  log::Warning("join request from " + who + " refused: " + why.message());
  const std::string line = "gate join: " + why.message() + "\n";
  (void)!::write(STDERR_FILENO, line.data(), line.size());
  return cli::ToExitCode(why.code());
}

}  // namespace

std::optional<JoinRequest> ParseJoinRequest(std::string_view command) {
  const auto words = Words(command);
  if (words.size() != 5 || words[1] != "join" || words[2] != "--mode") return std::nullopt;
  const std::string_view program = words[0];
  if (program != "gate" && !(program.starts_with("/") && program.ends_with("/gate"))) {
    return std::nullopt;
  }
  auto mode = ParseJoinMode(words[3]);
  if (!mode || !ValidateSessionId(words[4]).ok()) return std::nullopt;
  return JoinRequest{std::string(words[4]), *mode};
}

int ServeJoinRequest(const JoinRequestContext& context, const JoinRequest& request) {
  const std::string who = context.identity.user + " (login " + context.identity.login + ")";
  if (context.ids.setuid()) {
    if (Status s = DropPrivilegesFully(context.ids.euid, context.ids.egid, context.ids.ruid);
        !s.ok()) {
      return Refused(who, Internal("cannot drop privileges: " + s.message()));
    }
  }
  auto entry_id = NewSessionId();
  if (!entry_id) return Refused(who, entry_id.error());
  LiveSession entry;
  entry.session_id = *entry_id;
  entry.user = context.identity.user;
  entry.login = context.identity.login;
  entry.node = context.host_uuid;
  entry.recorder_pid = ::getpid();
  entry.started_at = static_cast<std::int64_t>(::time(nullptr));
  entry.mode = "join";
  char tty[256];
  if (::isatty(STDIN_FILENO) == 1 && ::ttyname_r(STDIN_FILENO, tty, sizeof(tty)) == 0) {
    entry.tty = tty;
  }
  if (Status s = WriteLiveSession(*context.env, context.run_dir, entry); !s.ok()) {
    return Refused(who, Unavailable("cannot register the join: " + s.message()));
  }
  log::Info("join request: user=" + context.identity.user + " login=" + context.identity.login +
            " session=" + request.session_id + " mode=" + std::string(JoinModeName(request.mode)));
  int rc = cli::kExitFailure;
  const std::string socket = context.run_dir + "/" + request.session_id + ".sock";
  auto joined = StartJoin(socket, request.session_id, request.mode);
  if (!joined) {
    rc = Refused(who, joined.error());
  } else {
    rc = RunAttached(joined->client, joined->accept, request.mode, request.session_id, STDIN_FILENO,
                     STDOUT_FILENO, STDERR_FILENO);
    log::Info("join request: " + context.identity.user + " left session " + request.session_id);
  }
  RemoveLiveSession(*context.env, context.run_dir, *entry_id);
  return rc;
}

}  // namespace gate::recorder
