// gate-node otp-relay's work (gate/otp_relay.h has the why and the wire
// format): take one "verify" line from a local root process (pam_gate.so),
// ask gate-ca with the node's credentials (POST /v1/nodes/otp/verify over
// libcurl, TLS verified or pinned as for every gate-node request), answer
// with the verdict. The code is never logged and is wiped after use.
#ifndef GATE_SSHD_HOOKS_NODE_OTP_RELAY_SERVER_H_
#define GATE_SSHD_HOOKS_NODE_OTP_RELAY_SERVER_H_

#include <sys/socket.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "gate/curl_http.h"
#include "gate/http_client.h"
#include "gate/otp_relay.h"
#include "gate/status.h"

namespace gate::hooks {

inline constexpr char kOtpVerifyPath[] = "/v1/nodes/otp/verify";

// gate-ca's answer for user, as a verdict: kAccepted only for 200
// {"ok": true, "user": <the same user>}; 401 and 403 (an admin lock: the code
// was right, the user may not pass) kRefused; 429 kLockedOut; no answer, a
// transport failure or 5xx kUnavailable; anything else kError. Table-tested.
OtpVerdict VerdictFromGateCa(const Result<HttpResponse>& reply, std::string_view user);

// One POST to gate-ca through client; the reply names the user and says why
// in words fit for a log line (never the code).
OtpRelayReply VerifyWithGateCa(const HttpClient& client, const OtpRelayRequest& request);

struct OtpRelayOptions {
  std::string data_dir = "/var/lib/gate-node";  // node.json, read for every request
  // Only this uid may ask (SO_PEERCRED); PAM stacks that can use central OTP
  // run as root, the only user who may read node.json anyway.
  uid_t allowed_uid = 0;
  // A caller sends its line right after connecting; one that does not is
  // dropped after this long.
  std::chrono::milliseconds read_timeout{2000};
  // Connections served at once; more are closed unanswered (the caller
  // reports gate-ca unavailable), so a flood cannot exhaust threads.
  int max_connections = 64;
};

class OtpRelay {
 public:
  explicit OtpRelay(OtpRelayOptions options) : options_(std::move(options)) {}

  // Answers the one request on connection fd and closes it. Everything it
  // decides goes to one log line.
  void HandleConnection(int fd) const;

  // Accepts on listen_fd until stop_fd (an eventfd, signalfd or pipe) becomes
  // readable, one thread per connection up to max_connections, then waits
  // for the connections in flight. Errors other than a failed accept, which
  // is logged and retried, end it.
  Status Serve(int listen_fd, int stop_fd);

 private:
  // peer: who is asking (SO_PEERCRED).
  OtpRelayReply Answer(int fd, const ucred& peer) const;

  OtpRelayOptions options_;
  // One TLS connection to gate-ca, kept between requests (and shared by the
  // connection threads), instead of a handshake per code.
  std::shared_ptr<HttpConnectionPool> pool_ = NewHttpConnectionPool();
  std::mutex mu_;
  std::condition_variable idle_;
  int active_ = 0;
};

}  // namespace gate::hooks

#endif  // GATE_SSHD_HOOKS_NODE_OTP_RELAY_SERVER_H_
