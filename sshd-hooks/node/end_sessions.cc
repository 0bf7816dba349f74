#include "sshd-hooks/node/end_sessions.h"

#include <pwd.h>
#include <unistd.h>

#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "gate/node_cache.h"
#include "gate/recorder_settings.h"
#include "sshd-hooks/node/record_state.h"
#include "sshd-hooks/node/session_reaper.h"

namespace gate::node {
namespace {

std::optional<uid_t> UidOf(const std::string& name) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  return pw.pw_uid;
}

}  // namespace

bool EndSessionsAfterSync(const NodePaths& paths, const policy::Snapshot& snapshot,
                          std::int64_t now) {
  ReaperConfig config;
  bool ok = true;
  std::string recorder_user = paths.recorder_user;
  auto record = hooks::ReadRecordState(paths.RecordStatePath());
  if (record) {
    config.run_dir = record->run_dir;
    recorder_user = record->recorder_user;
  } else if (record.error().code() != Code::kNotFound) {
    std::cerr << "gate-node sync: ending sessions: " << record.error().ToString()
              << "; recorded sessions not looked at\n";
    ok = false;
  } else if (auto settings = recorder::LoadSettings(paths.recorder_config); settings) {
    // Recording set up by hand (or by a role only): the recorder's own
    // settings name its run directory.
    config.run_dir = settings->run_dir;
  }
  if (!config.run_dir.empty()) {
    config.recorder_uid = UidOf(recorder_user);
    if (!config.recorder_uid) {
      std::cerr << "gate-node sync: ending sessions: no recorder user '" << recorder_user
                << "'; recorded sessions not looked at\n";
      config.run_dir.clear();
      ok = false;
    }
  }
  node::CacheLocation cache;
  cache.dir = paths.CacheDir();
  cache.owner = ::geteuid();
  auto user_cas = node::ReadUserCaKeys(cache);
  if (user_cas) {
    config.user_cas = *std::move(user_cas);
  } else {
    std::cerr << "gate-node sync: ending sessions: " << user_cas.error().ToString()
              << "; sessions without the recorder not looked at\n";
    ok = false;
  }
  const ReapReport report = EndCoveredSessions(snapshot, config, now);
  for (const std::string& line : report.ended) std::cout << "gate-node sync: " << line << "\n";
  for (const std::string& line : report.errors) {
    std::cerr << "gate-node sync: ending sessions: " << line << "\n";
  }
  return ok && report.errors.empty();
}

}  // namespace gate::node
