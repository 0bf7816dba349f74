// gate signup --proxy HOST[:PORT] [--insecure|--ca-pin PIN]
//
// The signup URL or token is asked for, never taken from argv: a token on
// the command line sits in /proc/PID/cmdline while the user types a password,
// long enough for any local user to read it and finish the signup first.
#include <algorithm>
#include <iostream>
#include <vector>

#include "cli/common/qr.h"
#include "cli/common/signup_token.h"
#include "cli/gate/commands.h"
#include "gate/curl_http.h"
#include "gate/exit_code.h"
#include "gate/http_client.h"
#include "gate/json.h"
#include "gate/otp_relay.h"
#include "gate/prompt.h"
#include "gate/proxy_flags.h"

namespace gate::cli {
namespace {

constexpr std::string_view kTool = "gate signup";
// Answers a person may get wrong (token, password, OTP code) are asked again
// up to this many times in all, so one typo does not mean typing everything
// again; then the command fails with the last reason.
constexpr int kTries = 3;
constexpr std::size_t kOtpDigits = 6;  // gate-ca's signup TOTP

// Prints why an answer was refused, when another try follows (after the
// last one, the command fails with that reason).
void SayRetry(const Status& why, int attempt) {
  if (attempt >= kTries) return;
  std::cerr << kTool << ": " << why.message() << "; try again (" << kTries - attempt << " left)\n";
}

bool WellFormedCode(std::string_view code) {
  return code.size() == kOtpDigits && IsOtpCodeShape(code);
}

class SignupCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    sub.add_option("--proxy", flags_.proxy, "gate-ca address, HOST[:PORT] (port 3080 by default)")
        ->required();
    sub.add_flag("--insecure", flags_.insecure,
                 "Do not verify the server's TLS certificate (prints a warning)");
    sub.add_option("--ca-pin", flags_.ca_pin,
                   "Trust the server whose TLS key has this pin (sha256:HEX, printed by gate-ca)");
    // Accepted only to refuse it with a reason (see Run); not in --help.
    sub.add_option("token", argv_token_)->group("");
    sub.footer(
        "Asks for the signup URL an admin shared (https://HOST/web/newuser/TOKEN) or\n"
        "its token: paste it at the prompt. The token is never accepted as an\n"
        "argument, where every local user could read it (ps, /proc/PID/cmdline) and\n"
        "finish the signup first. Then choose a password (asked twice), scan the QR\n"
        "code with an authenticator app (Google Authenticator, Authy, ...) and type\n"
        "one code to confirm. A password that is too short or does not match, or a\n"
        "wrong code, is asked again (3 tries). Without a terminal, the answers are\n"
        "read from standard input, one line each: URL or token, password, password\n"
        "again, OTP code.\n\n"
        "Example:\n"
        "  gate signup --proxy gate.example.com\n"
        "  Paste the signup URL or token: https://gate.example.com:3080/web/newuser/...\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    if (!argv_token_.empty()) {
      // Refused before any request: the token stays unused on the server.
      return Fail(kTool,
                  InvalidArgument("the signup token must not be given on the command line, "
                                  "where every local user can read it (ps, /proc/PID/cmdline) "
                                  "and finish the signup first; it was not used. Run `gate "
                                  "signup --proxy HOST` and paste the URL or token when asked "
                                  "(or give it on standard input)"));
    }
    auto options = ProxyClientOptions(flags_);
    if (!options) return Fail(kTool, options.error());
    HttpClient client = CurlHttpClient(*options);

    auto token = AskToken();
    if (!token) return Fail(kTool, token.error());
    Json::Value start_req;
    start_req["token"] = std::string(token->view());
    auto offer = client.Call("POST", "/v1/signup/start", &start_req);
    if (!offer) return Fail(kTool, offer.error());
    auto user = json::GetString(*offer, "user");
    auto min_length = json::OptionalInt(*offer, "password_min_length", 12);
    auto uri = json::OptionalString(*offer, "totp_uri");
    if (!user || !min_length || !uri) {
      return Fail(kTool, DataLoss("unexpected reply from the server"));
    }
    std::cerr << "Signing up as gate user " << *user << ".\n";

    auto password = AskPassword(static_cast<std::size_t>(std::max<std::int64_t>(*min_length, 0)));
    if (!password) return Fail(kTool, password.error());

    Json::Value finish_req;
    finish_req["token"] = std::string(token->view());
    finish_req["password"] = std::string(password->view());
    Result<Json::Value> done = Err(Internal("signup was not attempted"));
    if (uri->empty()) {
      done = client.Call("POST", "/v1/signup/finish", &finish_req);
    } else {
      auto qr = RenderQr(*uri);
      if (qr) std::cerr << "\n" << *qr << "\n";
      std::cerr << "Scan the QR code with your authenticator app, or enter this URI:\n"
                << *uri << "\n\n";
      done = FinishWithCode(client, finish_req);
    }
    if (!done) return Fail(kTool, done.error());
    const std::string proxy = options->base_url.substr(8);
    std::cout << "Signup complete: gate user " << *user << " is ready.\n"
              << "Log in with: gate login --proxy " << proxy << " --user " << *user
              << (flags_.insecure ? " --insecure" : "")
              << (flags_.ca_pin.empty() ? "" : " --ca-pin " + flags_.ca_pin) << "\n";
    return kExitOk;
  }

 private:
  // Read with echo off: the token is as good as a password until used.
  static Result<SecretString> AskToken() {
    Status why = Internal("no token");
    for (int attempt = 1; attempt <= kTries; ++attempt) {
      auto answer = ReadSecret("Paste the signup URL or token: ");
      if (!answer) return Err(attempt == 1 ? answer.error() : why);
      auto token = ParseSignupToken(answer->view());
      if (token) return token;
      why = token.error();
      SayRetry(why, attempt);
    }
    return Err(why);
  }

  // Checked here, before the OTP step, so a short or mistyped password costs
  // one more prompt rather than the whole signup.
  static Result<SecretString> AskPassword(std::size_t min_length) {
    Status why = Internal("no password");
    for (int attempt = 1; attempt <= kTries; ++attempt) {
      auto password = ReadSecret("Choose a password (at least " + std::to_string(min_length) +
                                 " characters): ");
      if (!password) return Err(attempt == 1 ? password.error() : why);
      if (password->size() < min_length) {
        why = InvalidArgument("password must be at least " + std::to_string(min_length) +
                              " characters");
        SayRetry(why, attempt);
        continue;
      }
      auto again = ReadSecret("Enter the password again: ");
      if (!again) return Err(again.error());
      if (ConstantTimeEquals(password->view(), again->view())) return password;
      why = InvalidArgument("the passwords do not match");
      SayRetry(why, attempt);
    }
    return Err(why);
  }

  // A malformed code is refused here; a wrong one by gate-ca, which keeps
  // the token unused, so the same request is sent again with a new code.
  static Result<Json::Value> FinishWithCode(HttpClient& client, Json::Value& finish_req) {
    Status why = Internal("no code");
    for (int attempt = 1; attempt <= kTries; ++attempt) {
      auto code = ReadSecret("Enter your OTP token: ");
      if (!code) return Err(attempt == 1 ? code.error() : why);
      if (!WellFormedCode(code->view())) {
        why = InvalidArgument("the OTP code must be " + std::to_string(kOtpDigits) + " digits");
        SayRetry(why, attempt);
        continue;
      }
      finish_req["otp_code"] = std::string(code->view());
      auto done = client.Call("POST", "/v1/signup/finish", &finish_req);
      if (done || done.error().code() != Code::kUnauthenticated) return done;
      why = done.error();
      SayRetry(why, attempt);
    }
    return Err(why);
  }

  ProxyFlags flags_;
  std::vector<std::string> argv_token_;
};

}  // namespace

std::unique_ptr<Command> MakeSignupCommand() { return std::make_unique<SignupCommand>(); }

}  // namespace gate::cli
