// The CLI's end of a single sign-on login (gate login --auth=NAME): a
// one-shot HTTP listener on 127.0.0.1, on a port the kernel picks, that
// waits for the browser gate-ca sends on after the identity provider:
// GET /callback?code=<one-time code> (or ?error=<why>). It answers the
// browser with a short page and closes. Only 127.0.0.1: nothing off this
// machine can reach it.
//
// Thread safety: one thread at a time.
#ifndef GATE_CLI_COMMON_SSO_CALLBACK_H_
#define GATE_CLI_COMMON_SSO_CALLBACK_H_

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "gate/status.h"
#include "gate/unique_fd.h"

namespace gate::cli {

// A request larger than this is answered 400 and ignored.
inline constexpr std::size_t kMaxCallbackRequestBytes = 8 * 1024;

class SsoCallbackListener {
 public:
  // Listens on 127.0.0.1:0. Unavailable when the socket cannot be made.
  static Result<SsoCallbackListener> Open();

  int port() const { return port_; }

  // Waits up to timeout for GET /callback; other requests get 404 and the
  // wait goes on. Returns the code. Errors: Unauthenticated carrying
  // gate-ca's ?error= text ("single sign-on failed: ..."); Unavailable when
  // nothing came in time. The listener is closed on return.
  Result<std::string> Wait(std::chrono::seconds timeout);

 private:
  SsoCallbackListener(UniqueFd fd, int port) : fd_(std::move(fd)), port_(port) {}

  UniqueFd fd_;
  int port_ = 0;
};

// A query value with %XX and '+' decoded. InvalidArgument on a bad escape
// or a decoded control character.
Result<std::string> DecodeQueryValue(std::string_view text);

}  // namespace gate::cli

#endif  // GATE_CLI_COMMON_SSO_CALLBACK_H_
