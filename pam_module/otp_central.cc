#include "pam_module/otp_central.h"


#include <cstddef>
#include <memory>
#include <utility>

#include "gate/log.h"
#include "gate/secret.h"

namespace gate::pam {
namespace {

class CentralOtp final : public Factor {
 public:
  Outcome Authenticate(FactorContext& context) override {
    // Credentials first: a node that cannot ask gate-ca should not make the
    // user type a code for nothing.
    auto node = ReadNodeCredentials(context.options.node_dir);
    if (!node) {
      log::Error("pam_gate: central OTP: cannot use the node credentials: " +
                 node.error().ToString());
      return Outcome::kError;
    }
    std::string answer;
    const bool answered = context.conversation.PromptSecret(kOtpPrompt, &answer);
    SecretString code(answer);
    Wipe(answer.data(), answer.size());
    if (!answered) {
      log::Warning("pam_gate: central OTP: no answer to the OTP prompt for " + context.gate_user);
      return Outcome::kError;
    }
    context.typed_otp = code;  // for offline=local, should gate-ca be unreachable
    const HttpClient client(CentralClientOptions(*node, context.options.timeout));
    return VerifyCentral(client, context.gate_user, code);
  }
};

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kSuccess: return "accepted";
    case Outcome::kFailure: return "refused (wrong or reused code)";
    case Outcome::kLockedOut: return "refused (locked out or rate limited)";
    case Outcome::kNotEnrolled: return "not enrolled";
    case Outcome::kUnavailable: return "gate-ca unavailable";
    case Outcome::kError: return "error";
  }
  return "error";
}

}  // namespace

Result<NodeState> ReadNodeCredentials(const std::string& node_dir) {
  return ReadNodeState(node_dir + "/" + kNodeStateFile);
}

HttpClientOptions CentralClientOptions(const NodeState& node, std::chrono::milliseconds timeout) {
  HttpClientOptions options = NodeClientOptions(node);
  options.timeout = timeout;
  return options;
}

Outcome CentralOutcome(const Result<HttpResponse>& reply, std::string_view gate_user) {
  if (!reply) {
    // Unavailable is HttpClient's "could not talk to gate-ca" (refused,
    // timed out, TLS failed, a garbled reply); DataLoss a 2xx that is not
    // JSON or too large; anything else is ours.
    return reply.error().code() == Code::kUnavailable ? Outcome::kUnavailable : Outcome::kError;
  }
  const long status = reply->status;
  if (status == 200) {
    const Json::Value& body = reply->body;
    // Only an explicit yes for this very user is a success: a proxy's empty
    // 200, or an answer about someone else, is not.
    if (body.isObject() && body["ok"].isBool() && body["ok"].asBool() &&
        body["user"].isString() && body["user"].asString() == gate_user) {
      return Outcome::kSuccess;
    }
    return Outcome::kError;
  }
  if (status == 401) return Outcome::kFailure;
  // An admin lock: the code was right, the user may not pass.
  if (status == 403) return Outcome::kFailure;
  if (status == 429) return Outcome::kLockedOut;
  if (status >= 500 && status <= 599) return Outcome::kUnavailable;
  return Outcome::kError;
}

Outcome VerifyCentral(const HttpClient& client, const std::string& gate_user,
                      const SecretString& code) {
  Json::Value body(Json::objectValue);
  body["user"] = gate_user;
  body["code"] = std::string(code.view());
  auto reply = client.Request("POST", kOtpVerifyPath, &body);
  // jsoncpp holds its own heap copy of the code: wipe it in place before it
  // is freed. (A code is worthless once gate-ca has seen its step, but one
  // typed and never sent would still be good for a minute.)
  const char* begin = nullptr;
  const char* end = nullptr;
  if (body["code"].getString(&begin, &end) && begin != nullptr) {
    Wipe(const_cast<char*>(begin), static_cast<std::size_t>(end - begin));
  }
  const Outcome outcome = CentralOutcome(reply, gate_user);
  std::string line = "pam_gate: central OTP for " + gate_user + ": " + OutcomeName(outcome);
  if (!reply) {
    line += ": " + reply.error().ToString();
  } else if (outcome != Outcome::kSuccess) {
    line += " (HTTP " + std::to_string(reply->status) + ")";
  }
  if (outcome == Outcome::kSuccess) {
    log::Info(line);
  } else {
    log::Warning(line);
  }
  return outcome;
}

std::unique_ptr<Factor> MakeCentralOtp() { return std::make_unique<CentralOtp>(); }

}  // namespace gate::pam
