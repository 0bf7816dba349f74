// gate signup --proxy HOST[:PORT] [--insecure|--ca-pin PIN] TOKEN
#include <iostream>

#include "cli/common/prompt.h"
#include "cli/common/qr.h"
#include "cli/gate/commands.h"
#include "gate/curl_http.h"
#include "gate/exit_code.h"
#include "gate/http_client.h"
#include "gate/json.h"
#include "gate/proxy_flags.h"

namespace gate::cli {
namespace {

class SignupCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    sub.add_option("--proxy", flags_.proxy, "gate-ca address, HOST[:PORT] (port 3080 by default)")
        ->required();
    sub.add_flag("--insecure", flags_.insecure,
                 "Do not verify the server's TLS certificate (prints a warning)");
    sub.add_option("--ca-pin", flags_.ca_pin,
                   "Trust the server whose TLS key has this pin (sha256:HEX, printed by gate-ca)");
    sub.add_option("token", token_, "The token from the signup URL an admin shared")->required();
    sub.footer(
        "Choose a password (asked twice), then scan the QR code with an authenticator app\n"
        "(Google Authenticator, Authy, ...) and type one code to confirm. Without a\n"
        "terminal, the answers are read from standard input, one line each: password,\n"
        "password again, OTP code.\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    auto options = ProxyClientOptions(flags_);
    if (!options) return Fail("gate signup", options.error());
    HttpClient client = CurlHttpClient(*options);

    Json::Value start_req;
    start_req["token"] = token_;
    auto offer = client.Call("POST", "/v1/signup/start", &start_req);
    if (!offer) return Fail("gate signup", offer.error());
    auto user = json::GetString(*offer, "user");
    auto min_length = json::OptionalInt(*offer, "password_min_length", 12);
    auto uri = json::OptionalString(*offer, "totp_uri");
    if (!user || !min_length || !uri) {
      return Fail("gate signup", DataLoss("unexpected reply from the server"));
    }
    std::cerr << "Signing up as gate user " << *user << ".\n";

    auto password =
        ReadSecret("Choose a password (at least " + std::to_string(*min_length) + " characters): ");
    if (!password) return Fail("gate signup", password.error());
    auto again = ReadSecret("Enter the password again: ");
    if (!again) return Fail("gate signup", again.error());
    if (!ConstantTimeEquals(password->view(), again->view())) {
      return Fail("gate signup", InvalidArgument("the passwords do not match"));
    }
    if (static_cast<std::int64_t>(password->size()) < *min_length) {
      return Fail("gate signup", InvalidArgument("password must be at least " +
                                                 std::to_string(*min_length) + " characters"));
    }

    Json::Value finish_req;
    finish_req["token"] = token_;
    finish_req["password"] = std::string(password->view());
    if (!uri->empty()) {
      auto qr = RenderQr(*uri);
      if (qr) std::cerr << "\n" << *qr << "\n";
      std::cerr << "Scan the QR code with your authenticator app, or enter this URI:\n"
                << *uri << "\n\n";
      auto code = ReadSecret("Enter your OTP token: ");
      if (!code) return Fail("gate signup", code.error());
      finish_req["otp_code"] = std::string(code->view());
    }
    auto done = client.Call("POST", "/v1/signup/finish", &finish_req);
    if (!done) return Fail("gate signup", done.error());
    const std::string proxy = options->base_url.substr(8);
    std::cout << "Signup complete: gate user " << *user << " is ready.\n"
              << "Log in with: gate login --proxy " << proxy << " --user " << *user
              << (flags_.insecure ? " --insecure" : "")
              << (flags_.ca_pin.empty() ? "" : " --ca-pin " + flags_.ca_pin) << "\n";
    return kExitOk;
  }

 private:
  ProxyFlags flags_;
  std::string token_;
};

}  // namespace

std::unique_ptr<Command> MakeSignupCommand() { return std::make_unique<SignupCommand>(); }

}  // namespace gate::cli
