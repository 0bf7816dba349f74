// gate-node otp-relay: checks the OTP codes pam_gate.so (source=central)
// hands it with gate-ca, using this node's credentials. Runs as
// gate-otp-relay.service, started by gate-otp-relay.socket (gate/otp_relay.h
// says why it exists; docs/pam.md, "Central OTP").
#include "gate/otp_relay.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "gate/exit_code.h"
#include "gate/log.h"
#include "gate/unique_fd.h"
#include "gate/unix_socket.h"
#include "sshd-hooks/node/commands.h"
#include "sshd-hooks/node/node_flags.h"
#include "sshd-hooks/node/otp_relay_server.h"

namespace gate::node {
namespace {

constexpr char kTool[] = "gate-node otp-relay";

// The socket systemd passed (gate-otp-relay.socket), or -1 when started
// without one; an error for anything but one Unix stream socket.
Result<int> InheritedSocket() {
  const int n = sd_listen_fds(1);
  if (n < 0) return Err(Internal(std::string("sd_listen_fds: ") + std::strerror(-n)));
  if (n == 0) return -1;
  if (n != 1)
    return Err(InvalidArgument("systemd passed " + std::to_string(n) +
                               " sockets; gate-otp-relay.socket has one"));
  if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, nullptr, 0) <= 0) {
    return Err(InvalidArgument("the socket systemd passed is not a listening Unix stream socket"));
  }
  return SD_LISTEN_FDS_START;
}

class OtpRelayCommand final : public cli::Command {
 public:
  void Define(CLI::App& sub) override {
    sub.add_option("--socket", socket_,
                   std::string("Where to listen when systemd passes no socket (default ") +
                       kDefaultOtpRelaySocket + "); created root 0600");
    sub.add_option("--data-dir", options_.data_dir,
                   "Where node.json, with the node's credentials, is (default /var/lib/gate-node)");
    sub.footer(
        "pam_gate.so with source=central does not speak to gate-ca itself: it hands the\n"
        "user's code to this relay over a Unix socket, and the relay asks gate-ca\n"
        "(POST /v1/nodes/otp/verify, over HTTPS with the node credentials in node.json,\n"
        "within the timeout= the PAM line sets) and passes the verdict back. One\n"
        "authentication then costs no TLS set-up in the PAM process, the relay keeps\n"
        "its connection to gate-ca open between codes, and only this service reads\n"
        "the node secret.\n\n"
        "Normally started by gate-otp-relay.socket (" +
        std::string(kDefaultOtpRelaySocket) +
        ", root 0600).\n"
        "Only root may ask (the caller's uid is checked); one request per connection,\n"
        "sent within 2 s of connecting; at most 64 at once, more are closed unanswered.\n"
        "node.json is read for every request, so a join, rejoin or leave needs no\n"
        "restart. Logs one line per request (user, verdict, reason; never the code).\n"
        "Stops on SIGTERM or SIGINT after answering the requests in flight.\n\n"
        "Exit status: 0 stopped by a signal, 1 failure, 2 usage error, 3 not root.\n");
  }

  int Run() override {
    log::Init(log::Sink::kStderr, "gate-node", log::Level::kInfo);
    if (Status s = RequireRoot(); !s.ok()) return cli::Fail(kTool, s);

    // A caller or gate-ca that hangs up mid-write must not stop the service.
    ::signal(SIGPIPE, SIG_IGN);
    // Signals arrive on a descriptor; threads started later inherit the mask.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, nullptr);
    UniqueFd stop_fd(::signalfd(-1, &stop, SFD_CLOEXEC));
    if (!stop_fd.valid()) {
      return cli::Fail(kTool, Internal(std::string("signalfd: ") + std::strerror(errno)));
    }

    auto inherited = InheritedSocket();
    if (!inherited) return cli::Fail(kTool, inherited.error());
    UnixListener listener;  // its file, when it is ours, goes when we do
    std::string where = "the socket systemd passed";
    if (*inherited >= 0) {
      listener.fd.Reset(*inherited);
    } else {
      auto bound = ListenUnix(socket_, 0600);
      if (!bound) return cli::Fail(kTool, bound.error());
      listener = std::move(*bound);
      where = socket_;
    }
    log::Info("otp-relay: listening on " + where + "; node credentials from " + options_.data_dir);
    hooks::OtpRelay relay(options_);
    const Status served = relay.Serve(listener.fd.get(), stop_fd.get());
    RemoveListenerFile(listener);
    if (!served.ok()) return cli::Fail(kTool, served);
    log::Info("otp-relay: stopping");
    return cli::kExitOk;
  }

 private:
  std::string socket_ = kDefaultOtpRelaySocket;
  hooks::OtpRelayOptions options_;
};

}  // namespace

std::unique_ptr<cli::Command> MakeOtpRelayCommand() { return std::make_unique<OtpRelayCommand>(); }

}  // namespace gate::node
