#include "sshd-hooks/node/otp_relay_server.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <thread>
#include <utility>

#include "gate/curl_http.h"
#include "gate/log.h"
#include "gate/node_state.h"
#include "gate/unique_fd.h"

namespace gate::hooks {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kReplyTimeout{1000};

std::string Describe(const Result<HttpResponse>& reply, OtpVerdict verdict) {
  if (!reply) return reply.error().message();
  switch (verdict) {
    case OtpVerdict::kAccepted:
      return "code accepted";
    case OtpVerdict::kRefused:
      return "wrong or reused code (HTTP " + std::to_string(reply->status) + ")";
    case OtpVerdict::kLockedOut:
      return "locked out or rate limited (HTTP " + std::to_string(reply->status) + ")";
    default:
      return "unexpected answer from gate-ca (HTTP " + std::to_string(reply->status) + ")";
  }
}

}  // namespace

OtpVerdict VerdictFromGateCa(const Result<HttpResponse>& reply, std::string_view user) {
  if (!reply) {
    // Unavailable is HttpClient's "could not talk to gate-ca" (refused,
    // timed out, TLS failed, a garbled reply); DataLoss a 2xx that is not
    // JSON or too large; anything else is ours.
    return reply.error().code() == Code::kUnavailable ? OtpVerdict::kUnavailable
                                                      : OtpVerdict::kError;
  }
  const long status = reply->status;
  if (status == 200) {
    const Json::Value& body = reply->body;
    // Only an explicit yes for this very user is a success: a proxy's empty
    // 200, or an answer about someone else, is not.
    if (body.isObject() && body["ok"].isBool() && body["ok"].asBool() && body["user"].isString() &&
        body["user"].asString() == user) {
      return OtpVerdict::kAccepted;
    }
    return OtpVerdict::kError;
  }
  if (status == 401 || status == 403) return OtpVerdict::kRefused;
  if (status == 429) return OtpVerdict::kLockedOut;
  if (status >= 500 && status <= 599) return OtpVerdict::kUnavailable;
  return OtpVerdict::kError;
}

OtpRelayReply VerifyWithGateCa(const HttpClient& client, const OtpRelayRequest& request) {
  Json::Value body(Json::objectValue);
  body["user"] = request.user;
  body["code"] = std::string(request.code.view());
  auto reply = client.Request("POST", kOtpVerifyPath, &body);
  // jsoncpp holds its own heap copy of the code: wipe it in place before it
  // is freed. (A code is worthless once gate-ca has seen its step, but one
  // never delivered would still be good for a minute.)
  const char* begin = nullptr;
  const char* end = nullptr;
  if (body["code"].getString(&begin, &end) && begin != nullptr) {
    Wipe(const_cast<char*>(begin), static_cast<std::size_t>(end - begin));
  }
  const OtpVerdict verdict = VerdictFromGateCa(reply, request.user);
  return {verdict, request.user, Describe(reply, verdict)};
}

OtpRelayReply OtpRelay::Answer(int fd, const ucred& peer) const {
  if (peer.uid != options_.allowed_uid) {
    return {OtpVerdict::kError, "",
            "caller uid " + std::to_string(peer.uid) + " may not ask; only uid " +
                std::to_string(options_.allowed_uid) + " may"};
  }
  auto line = ReadOtpRelayLine(fd, Clock::now() + options_.read_timeout);
  if (!line) return {OtpVerdict::kError, "", "bad request: " + line.error().message()};
  auto request = ParseOtpRelayRequest(line->view());
  if (!request) return {OtpVerdict::kError, "", "bad request: " + request.error().message()};
  auto node = ReadNodeState(options_.data_dir + "/" + kNodeStateFile);
  if (!node) {
    return {OtpVerdict::kError, request->user,
            "cannot use the node credentials: " + node.error().ToString()};
  }
  HttpClientOptions client = NodeClientOptions(*node);
  client.timeout = request->timeout;
  client.connection_pool = pool_;
  return VerifyWithGateCa(CurlHttpClient(std::move(client)), *request);
}

void OtpRelay::HandleConnection(int fd) const {
  UniqueFd conn(fd);
  ucred peer{};
  socklen_t len = sizeof peer;
  const bool known = ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0;
  const OtpRelayReply reply =
      known ? Answer(fd, peer)
            : OtpRelayReply{OtpVerdict::kError, "",
                            std::string("cannot identify the caller: ") + std::strerror(errno)};
  const Status sent =
      WriteOtpRelayLine(fd, FormatOtpRelayReply(reply), Clock::now() + kReplyTimeout);
  std::string line = "otp-relay: " + (reply.user.empty() ? std::string("(no user)") : reply.user) +
                     ": " + std::string(OtpVerdictName(reply.verdict)) + ": " + reply.message;
  if (known) line += " [pid " + std::to_string(peer.pid) + "]";
  if (!sent.ok()) line += " (the answer could not be sent: " + sent.message() + ")";
  if (reply.verdict == OtpVerdict::kAccepted && sent.ok()) {
    log::Info(line);
  } else {
    log::Warning(line);
  }
}

Status OtpRelay::Serve(int listen_fd, int stop_fd) {
  for (;;) {
    pollfd fds[2] = {{listen_fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return Internal(std::string("poll: ") + std::strerror(errno));
    }
    if (fds[1].revents != 0) break;
    if (fds[0].revents & (POLLERR | POLLNVAL)) return Internal("the listening socket failed");
    if (!(fds[0].revents & POLLIN)) continue;
    const int conn = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) {
      if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
        log::Warning(std::string("otp-relay: accept: ") + std::strerror(errno));
        // EMFILE and friends: do not spin while the condition lasts.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (active_ >= options_.max_connections) {
        ::close(conn);
        log::Warning("otp-relay: " + std::to_string(active_) +
                     " requests in flight; closing a new connection unanswered");
        continue;
      }
      ++active_;
    }
    try {
      std::thread([this, conn] {
        HandleConnection(conn);
        std::lock_guard<std::mutex> lock(mu_);
        if (--active_ == 0) idle_.notify_all();
      }).detach();
    } catch (const std::system_error& e) {
      ::close(conn);
      std::lock_guard<std::mutex> lock(mu_);
      --active_;
      log::Warning(std::string("otp-relay: cannot start a thread: ") + e.what());
    }
  }
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return active_ == 0; });
  return Status::Ok();
}

}  // namespace gate::hooks
