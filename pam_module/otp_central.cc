#include "pam_module/otp_central.h"

#include <sys/stat.h>

#include <memory>
#include <utility>

#include "gate/log.h"
#include "gate/unique_fd.h"
#include "gate/unix_socket.h"

namespace gate::pam {
namespace {

using Clock = std::chrono::steady_clock;

class CentralOtp final : public Factor {
 public:
  Outcome Authenticate(FactorContext& context) override {
    const std::string& relay = context.options.relay;
    // A node that cannot ask gate-ca should not make the user type a code
    // for nothing; offline=local still gets its chance (kUnavailable).
    if (Status s = CheckRelaySocket(relay); !s.ok()) {
      log::Error("central OTP for " + context.gate_user + ": " + s.message());
      return Outcome::kUnavailable;
    }
    SecretString code;
    if (!context.conversation.PromptSecret(kOtpPrompt, &code)) {
      log::Warning("central OTP: no answer to the OTP prompt for " + context.gate_user);
      return Outcome::kError;
    }
    context.typed_otp = code;  // for offline=local, should gate-ca be unreachable
    if (!IsOtpCodeShape(code.view())) {
      // Nothing worth asking gate-ca about, and nothing to guess with.
      log::Warning("central OTP for " + context.gate_user + ": not a code (digits only)");
      return Outcome::kFailure;
    }
    auto reply = AskRelay(relay, context.gate_user, code, context.options.timeout);
    const Outcome outcome = CentralOutcome(reply, context.gate_user);
    std::string line = "central OTP for " + context.gate_user + ": ";
    if (reply) {
      line += std::string(OtpVerdictName(reply->verdict));
      if (!reply->message.empty()) line += ": " + reply->message;
      if (outcome == Outcome::kError && reply->verdict == OtpVerdict::kAccepted) {
        line += " (but for another user: refused)";
      }
    } else {
      line += "no answer from the OTP relay at " + relay + ": " + reply.error().message();
    }
    if (outcome == Outcome::kSuccess) {
      log::Info(line);
    } else {
      log::Warning(line);
    }
    return outcome;
  }
};

}  // namespace

Status CheckRelaySocket(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) {
    return Unavailable("the OTP relay is not running (no socket at " + path +
                       "); start it with: systemctl enable --now gate-otp-relay.socket");
  }
  return Status::Ok();
}

Result<OtpRelayReply> AskRelay(const std::string& path, std::string_view gate_user,
                               const SecretString& code, std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout + kRelayGrace;
  auto request = FormatOtpRelayRequest(gate_user, code.view(), timeout);
  if (!request) return Err(request.error());
  // Non-blocking: a relay whose backlog is full is "unavailable" at once,
  // never a hang; nobody listening is unavailable too (offline= decides).
  auto fd = ConnectUnix(path, /*nonblocking=*/true);
  if (!fd) {
    if (fd.error().code() == Code::kNotFound) return Err(Unavailable(fd.error().message()));
    return Err(fd.error());
  }
  GATE_RETURN_IF_ERROR(WriteOtpRelayLine(fd->get(), request->view(), deadline));
  auto line = ReadOtpRelayLine(fd->get(), deadline);
  if (!line) return Err(line.error());
  return ParseOtpRelayReply(line->view());
}

Outcome CentralOutcome(const Result<OtpRelayReply>& reply, std::string_view gate_user) {
  if (!reply) {
    return reply.error().code() == Code::kUnavailable ? Outcome::kUnavailable : Outcome::kError;
  }
  switch (reply->verdict) {
    // Only a yes about this very user is a success.
    case OtpVerdict::kAccepted:
      return reply->user == gate_user ? Outcome::kSuccess : Outcome::kError;
    case OtpVerdict::kRefused:
      return Outcome::kFailure;
    case OtpVerdict::kLockedOut:
      return Outcome::kLockedOut;
    case OtpVerdict::kUnavailable:
      return Outcome::kUnavailable;
    case OtpVerdict::kError:
      return Outcome::kError;
  }
  return Outcome::kError;
}

std::unique_ptr<Factor> MakeCentralOtp() { return std::make_unique<CentralOtp>(); }

}  // namespace gate::pam
