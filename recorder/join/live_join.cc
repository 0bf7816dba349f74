#include "recorder/join/live_join.h"

#include <utility>

#include "gate/log.h"
#include "recorder/join/authorize.h"

namespace gate::recorder {

Result<std::unique_ptr<JoinHub>> ListenForJoiners(const LiveJoinSetup& setup,
                                                  JoinCallbacks callbacks) {
  if (Status s = MakeIdentifiableToOtherRecorders(); !s.ok()) {
    log::Warning(
        "join: other recorders cannot identify this one, so joins from inside "
        "session " +
        setup.summary.session_id + " will be refused: " + s.message());
  }
  AuthorizerConfig config;
  config.run_dir = setup.run_dir;
  config.cache.dir = setup.cache_dir;
  auto authorize = MakeDefaultAuthorizer(std::move(config));
  if (!authorize) return Err(authorize.error().WithContext("join authorizer"));
  return JoinHub::Listen(setup.socket_path, setup.summary, std::move(*authorize),
                         std::move(callbacks));
}

}  // namespace gate::recorder
