// gate status: the current login profile, the other profiles (one per
// cluster and user) and, inside a recorded session, the session's block
// (as `teleport status` prints it).
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <optional>
#include <string>

#include "cli/common/profile.h"
#include "cli/common/session_status.h"
#include "cli/gate/commands.h"
#include "gate/exit_code.h"
#include "gate/recorder_settings.h"

namespace gate::cli {
namespace {

// The block for the recorded session this runs in, if any. Not being in
// one is normal; a recorder whose files cannot be read is only worth a
// line on stderr, not a failed status.
std::optional<std::string> RecordedSession() {
  const char* id = std::getenv("GATE_SESSION_ID");
  if (id == nullptr || *id == '\0') return std::nullopt;
  const char* config = std::getenv("GATE_RECORDER_CONFIG");
  const std::string path =
      config != nullptr && *config != '\0' ? config : std::string(recorder::kDefaultSettingsPath);
  auto block = SessionStatusBlock(id, path);
  if (!block) {
    if (block.error().code() != Code::kNotFound) {
      std::cerr << "gate status: recorded session " << id << ": " << block.error().message()
                << "\n";
    }
    return std::nullopt;
  }
  return *block;
}

class StatusCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    sub.footer(
        "Prints the profile of the current login (marked >) and the other saved profiles,\n"
        "one per cluster and user (gate login --proxy HOST switches between them). Inside\n"
        "a recorded session on a node (GATE_SESSION_ID is set by gate-record), also prints\n"
        "the cluster, the host UUID, the session ID and its URL, as `teleport status` does.\n"
        "Exits 1 if the current certificate has expired and 5 if you are not logged in\n"
        "(0 inside a recorded session without a login).");
  }

  int Run() override {
    const std::optional<std::string> session = RecordedSession();
    auto home = ProfileHome::Default();
    if (!home) return session ? PrintSessionOnly(*session) : Fail("gate status", home.error());
    auto store = home->Current();
    Result<Profile> profile = store ? store->Load() : Result<Profile>(Err(store.error()));
    if (!profile) {
      if (session && profile.error().code() == Code::kNotFound) return PrintSessionOnly(*session);
      return Fail("gate status", profile.error());
    }
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    std::cout << FormatProfile(*profile, now);
    for (const Profile& other : home->List()) {
      if (other.proxy == profile->proxy && other.user == profile->user) continue;
      std::cout << "\n" << FormatProfile(other, now, /*current=*/false);
    }
    if (session) std::cout << "\n" << *session;
    std::cout << std::flush;
    return profile->valid_before > now ? kExitOk : kExitFailure;
  }

 private:
  static int PrintSessionOnly(const std::string& session) {
    std::cout << session << std::flush;
    return kExitOk;
  }
};

}  // namespace

std::unique_ptr<Command> MakeStatusCommand() { return std::make_unique<StatusCommand>(); }

}  // namespace gate::cli
