#include "ca-server/web/terminal_caps.h"

namespace gate::ca::web {

Status TerminalCaps::Reserve(const std::string& user) {
  std::lock_guard<std::mutex> lock(mu_);
  if (open_ >= config_.max_connections) {
    return ResourceExhausted("too many browser terminals are open on gate-ca (at most " +
                             std::to_string(config_.max_connections) + "); try again later");
  }
  int& mine = per_user_[user];
  if (mine >= config_.max_per_user) {
    if (mine == 0) per_user_.erase(user);
    return ResourceExhausted("you have " + std::to_string(mine) +
                             " browser terminals open, the most allowed; close one first");
  }
  ++mine;
  ++open_;
  return Status::Ok();
}

void TerminalCaps::Release(const std::string& user) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = per_user_.find(user);
  if (it == per_user_.end()) return;
  --open_;
  if (--it->second == 0) per_user_.erase(it);
}

int TerminalCaps::open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

}  // namespace gate::ca::web
