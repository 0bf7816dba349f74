// How many browser terminals and live joins may be open at once: in the
// whole gate-ca and per Gate user (gate.yaml auth_service.web_terminal).
// Each open one is an SSH connection and a thread of gate-ca's, so both
// are bounded.
//
// Thread safety: all methods may be called concurrently.
#ifndef GATE_CA_WEB_TERMINAL_CAPS_H_
#define GATE_CA_WEB_TERMINAL_CAPS_H_

#include <map>
#include <mutex>
#include <string>

#include "gate/config.h"
#include "gate/status.h"

namespace gate::ca::web {

class TerminalCaps {
 public:
  explicit TerminalCaps(WebTerminalConfig config) : config_(config) {}

  // Takes a place for user, or ResourceExhausted (nothing taken) when
  // max_connections are open, or max_per_user of user's.
  Status Reserve(const std::string& user);
  // Gives back a place Reserve took.
  void Release(const std::string& user);

  int open() const;

 private:
  const WebTerminalConfig config_;
  mutable std::mutex mu_;
  int open_ = 0;                         // guarded by mu_
  std::map<std::string, int> per_user_;  // guarded by mu_; no zero entries
};

}  // namespace gate::ca::web

#endif  // GATE_CA_WEB_TERMINAL_CAPS_H_
