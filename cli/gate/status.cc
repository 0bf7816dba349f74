// gate status: the current login profile.
#include <ctime>
#include <iostream>

#include "cli/common/exit_code.h"
#include "cli/common/profile.h"
#include "cli/gate/commands.h"

namespace gate::cli {
namespace {

class StatusCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    sub.footer("Prints the profile of the last `gate login`. Exits 1 if the certificate has\n"
               "expired and 5 if you are not logged in.");
  }

  int Run() override {
    auto store = ProfileStore::Default();
    if (!store) return Fail("gate status", store.error());
    auto profile = store->Load();
    if (!profile) return Fail("gate status", profile.error());
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    std::cout << FormatProfile(*profile, now) << std::flush;
    return profile->valid_before > now ? kExitOk : kExitFailure;
  }
};

}  // namespace

std::unique_ptr<Command> MakeStatusCommand() { return std::make_unique<StatusCommand>(); }

}  // namespace gate::cli
