#include "recorder/join/live_join.h"

#include <utility>

#include "recorder/join/authorize.h"

namespace gate::recorder {

Result<std::unique_ptr<JoinHub>> ListenForJoiners(const LiveJoinSetup& setup,
                                                  JoinCallbacks callbacks) {
  AuthorizerConfig config;
  config.run_dir = setup.run_dir;
  config.cache.dir = setup.cache_dir;
  JoinHubOptions options;
  options.history_dir = setup.history_dir;
  options.history_bytes = setup.history_bytes;
  return JoinHub::Listen(setup.socket_path, setup.summary, MakeDefaultAuthorizer(std::move(config)),
                         std::move(callbacks), options);
}

}  // namespace gate::recorder
