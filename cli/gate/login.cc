// gate login [--proxy HOST[:PORT]] [--user NAME] [--insecure|--ca-pin PIN] [--ttl DURATION]
//            [--auth NAME [--browser none]]
#include <fcntl.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <iostream>
#include <optional>

#include "cli/common/agent.h"
#include "cli/common/profile.h"
#include "cli/common/session_api.h"
#include "cli/common/sso_callback.h"
#include "cli/common/terminal_text.h"
#include "cli/gate/commands.h"
#include "gate/bytes.h"
#include "gate/certificate.h"
#include "gate/curl_http.h"
#include "gate/duration.h"
#include "gate/ed25519.h"
#include "gate/exit_code.h"
#include "gate/http_client.h"
#include "gate/json.h"
#include "gate/prompt.h"
#include "gate/proxy_flags.h"

namespace gate::cli {
namespace {

std::string LocalUserName() {
  const passwd* pw = getpwuid(getuid());
  return pw != nullptr && pw->pw_name != nullptr ? pw->pw_name : "";
}

Result<std::vector<std::string>> Strings(const Json::Value& v, std::string_view name) {
  return json::OptionalStringArray(v, name);
}

class LoginCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    sub.add_option("--proxy", flags_.proxy,
                   "gate-ca address, HOST[:PORT] (port 3080 by default; default: the current "
                   "profile's)");
    sub.add_option("--user", user_,
                   "gate user name (default: the current profile's user at that proxy, else "
                   "your local user name)");
    sub.add_flag("--insecure", flags_.insecure,
                 "Do not verify the server's TLS certificate (prints a warning)");
    sub.add_option("--ca-pin", flags_.ca_pin,
                   "Trust the server whose TLS key has this pin (sha256:HEX, printed by gate-ca)");
    sub.add_option("--auth", auth_,
                   "Log in through this single sign-on connector (default: the cluster's "
                   "authentication type: local, or its default connector); 'local' for a "
                   "password");
    sub.add_option("--browser", browser_,
                   "'none': only print the single sign-on URL, do not open a browser");
    sub.add_option("--ttl", ttl_text_,
                   "Certificate lifetime, e.g. 1h or 30m (default: the cluster's cert_ttl, 12h; "
                   "capped by max_cert_ttl)");
    sub.footer(
        "Generates a fresh Ed25519 key, proves who you are with your password and OTP code,\n"
        "and stores the key and the signed certificate in ~/.gate/keys/PROXY/USER, a profile\n"
        "of its own per cluster and user; it becomes the current profile (gate status lists\n"
        "them all). Without --proxy, logs in again to the current profile's cluster with the\n"
        "TLS trust (--ca-pin or --insecure) it was made with; --proxy alone reuses the trust\n"
        "of a profile for that proxy. The cluster's host CA goes into ~/.gate/known_hosts,\n"
        "trusted only for the cluster's node names. If SSH_AUTH_SOCK is set,\n"
        "the key is also added to your ssh-agent until the certificate expires. Without a\n"
        "terminal, answers are read from standard input, one line each: password, OTP code.\n"
        "With --auth NAME (or when the cluster's authentication type is a connector), you\n"
        "log in through that single sign-on connector in a browser instead: the link is\n"
        "opened with xdg-open (--browser none: only printed), and the browser comes back\n"
        "to a one-shot listener on 127.0.0.1.\n\n" +
        std::string(kExitCodeHelp));
  }

  int Run() override {
    std::chrono::seconds ttl{0};
    if (!ttl_text_.empty()) {
      auto parsed = ParseDuration(ttl_text_);
      if (!parsed) return Fail("gate login", parsed.error().WithContext("--ttl"));
      ttl = *parsed;
    }
    auto home = ProfileHome::Default();
    if (!home) return Fail("gate login", home.error());
    if (Status s = RememberTarget(*home); !s.ok()) return Fail("gate login", s);
    if (user_.empty()) user_ = LocalUserName();
    auto options = ProxyClientOptions(flags_);
    if (!options) return Fail("gate login", options.error());
    HttpClient client = CurlHttpClient(*options);

    auto ping = client.Call("GET", "/v1/ping");
    if (!ping) return Fail("gate login", ping.error());
    const std::string second_factor = (*ping)["auth"]["second_factor"].asString();
    if (!browser_.empty() && browser_ != "none") {
      return Fail("gate login", InvalidArgument("--browser takes only 'none'"));
    }
    std::string connector = auth_;
    if (connector.empty() && (*ping)["auth"]["type"].asString() != "local") {
      connector = (*ping)["auth"]["connector_name"].asString();
    }
    if (!connector.empty() && connector != "local") {
      return LoginWithConnector(client, *home, *options, connector, ttl);
    }

    auto password = ReadSecret("Enter password for gate user " + user_ + ": ");
    if (!password) return Fail("gate login", password.error());
    SecretString otp;
    // on and optional take an OTP app too; with optional a user without
    // one leaves it empty.
    if (second_factor != "off") {
      auto code = ReadSecret(second_factor == "optional"
                                 ? "Enter your OTP token (empty if you have no OTP app): "
                                 : "Enter your OTP token: ");
      if (!code) return Fail("gate login", code.error());
      otp = std::move(*code);
    }

    auto key = ssh::Ed25519PrivateKey::Generate();
    if (!key) return Fail("gate login", key.error());
    Json::Value req;
    req["user"] = user_;
    req["password"] = std::string(password->view());
    req["otp_code"] = std::string(otp.view());
    req["public_key"] = key->public_key().AuthorizedKey();
    req["ttl_seconds"] = Json::Int64(ttl.count());
    auto reply = client.Call("POST", "/v1/login", &req);
    if (!reply) return Fail("gate login", reply.error());
    if (flags_.insecure) {
      std::cerr << "WARNING: You are using insecure connection to gate proxy " << options->base_url
                << "\n";
    }
    return Finish(*home, *options, *key, *reply);
  }

 private:
  // Single sign-on: the browser logs in at the identity provider, gate-ca
  // sends it on to a one-shot listener here with a one-time code, and the
  // code with the secret only this process holds gets the certificate.
  int LoginWithConnector(const HttpClient& client, const ProfileHome& home,
                         const HttpClientOptions& options, const std::string& connector,
                         std::chrono::seconds ttl) {
    auto key = ssh::Ed25519PrivateKey::Generate();
    if (!key) return Fail("gate login", key.error());
    auto listener = SsoCallbackListener::Open();
    if (!listener) return Fail("gate login", listener.error());
    Json::Value req;
    req["public_key"] = key->public_key().AuthorizedKey();
    req["callback_port"] = listener->port();
    req["ttl_seconds"] = Json::Int64(ttl.count());
    auto started = client.Call("POST", "/v1/sso/oidc/" + PercentEncode(connector) + "/cli", &req);
    if (!started) return Fail("gate login", started.error());
    auto url = json::GetString(*started, "url");
    auto secret_text = json::GetString(*started, "secret");
    if (!url || !secret_text) return Fail("gate login", DataLoss("unexpected reply from server"));
    SecretString secret(*secret_text);
    Wipe(secret_text->data(), secret_text->size());
    std::cout << "If the browser does not open, open this link to log in through " << connector
              << ":\n  " << *url << "\n"
              << std::flush;
    if (browser_ != "none") OpenBrowser(*url);
    auto code = listener->Wait(std::chrono::minutes(5));
    if (!code) return Fail("gate login", code.error());
    Json::Value collect;
    collect["code"] = *code;
    collect["secret"] = std::string(secret.view());
    auto reply = client.Call("POST", "/v1/sso/cli/collect", &collect);
    if (!reply) return Fail("gate login", reply.error());
    return Finish(home, options, *key, *reply);
  }

  // xdg-open, if there is one; the printed link serves otherwise.
  static void OpenBrowser(const std::string& url) {
    posix_spawn_file_actions_t actions;
    if (posix_spawn_file_actions_init(&actions) != 0) return;
    for (int fd : {0, 1, 2}) {
      posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
    }
    pid_t pid = 0;
    std::string program = "xdg-open";
    std::string arg = url;
    char* argv[] = {program.data(), arg.data(), nullptr};
    if (posix_spawnp(&pid, "xdg-open", &actions, nullptr, argv, environ) == 0) {
      int status = 0;
      (void)waitpid(pid, &status, WNOHANG);
    }
    posix_spawn_file_actions_destroy(&actions);
  }

  // Fills what the command line left out from the profiles: the proxy and
  // user of the current profile, and the TLS trust last used with that
  // proxy (the current profile's first, then any other profile's).
  Status RememberTarget(const ProfileHome& home) {
    std::optional<Profile> current;
    if (auto store = home.Current(); store) {
      if (auto profile = store->Load(); profile) current = *std::move(profile);
    }
    if (flags_.proxy.empty()) {
      if (!current) {
        return InvalidArgument(
            "--proxy is required: there is no current profile to log in to again");
      }
      flags_.proxy = current->proxy;
    }
    auto proxy = NormalizeProxy(flags_.proxy);
    if (!proxy) return proxy.error();
    std::vector<Profile> same_proxy;
    if (current && current->proxy == *proxy) same_proxy.push_back(*current);
    for (Profile& p : home.List()) {
      if (p.proxy == *proxy) same_proxy.push_back(std::move(p));
    }
    if (same_proxy.empty()) return Status::Ok();
    if (user_.empty()) user_ = same_proxy.front().user;
    if (!flags_.insecure && flags_.ca_pin.empty()) {
      flags_.insecure = same_proxy.front().insecure;
      flags_.ca_pin = same_proxy.front().ca_pin;
    }
    return Status::Ok();
  }

  int Finish(const ProfileHome& home, const HttpClientOptions& options,
             const ssh::Ed25519PrivateKey& key, const Json::Value& reply) {
    auto cert_line = json::GetString(reply, "certificate");
    if (!cert_line) return Fail("gate login", cert_line.error());
    auto cert = ssh::ParseCertificateLine(*cert_line);
    if (!cert) return Fail("gate login", cert.error().WithContext("certificate from server"));
    // The server must certify the key we generated, and sign with the CA it
    // advertises; anything else means we are not talking to what we think.
    auto user_ca = Strings(reply, "user_ca");
    bool ca_ok = false;
    if (user_ca) {
      for (const auto& line : *user_ca) {
        auto ca = ssh::Ed25519PublicKey::FromAuthorizedKey(line);
        if (ca && *ca == cert->signature_key) ca_ok = true;
      }
    }
    if (!(cert->spec.public_key == key.public_key()) || !ca_ok) {
      return Fail("gate login",
                  DataLoss("the server returned a certificate for another key or CA"));
    }

    Profile profile;
    profile.proxy = options.base_url.substr(8);
    profile.user = cert->spec.key_id;
    profile.cluster = reply["cluster_name"].asString();
    profile.insecure = flags_.insecure;
    profile.ca_pin = flags_.ca_pin;
    auto roles = Strings(reply, "roles");
    auto extensions = Strings(reply, "extensions");
    auto host_ca = Strings(reply, "host_ca");
    if (!roles || !extensions || !host_ca) {
      return Fail("gate login", DataLoss("unexpected reply from the server"));
    }
    profile.roles = *roles;
    profile.logins = cert->spec.principals;
    profile.extensions = *extensions;
    profile.valid_after = static_cast<std::int64_t>(cert->spec.valid_after);
    profile.valid_before = static_cast<std::int64_t>(cert->spec.valid_before);
    profile.serial = std::to_string(cert->spec.serial);
    if (reply["connector"].isString()) profile.connector = reply["connector"].asString();

    const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
    WarnAboutClockSkew(profile, now);
    auto store = home.For(profile.proxy, profile.user);
    if (!store) return Fail("gate login", store.error());
    const std::string comment = profile.user + "@" + profile.cluster;
    profile.host_patterns = ClusterHostPatterns(profile.cluster, {});
    if (Status s = store->Save(profile, ssh::EncodeOpenSshPrivateKey(key, comment),
                               ssh::CertificateLine(*cert, comment));
        !s.ok()) {
      return Fail("gate login", s);
    }
    if (Status s = home.SetCurrent(profile.proxy, profile.user); !s.ok()) {
      return Fail("gate login", s);
    }
    // The node names come from a request signed with the new certificate;
    // without them the trust stays at *.CLUSTER, never wider.
    if (auto names = NodeNames(*store, now); names) {
      profile.host_patterns = ClusterHostPatterns(profile.cluster, *names);
      if (Status s = store->Save(profile, ssh::EncodeOpenSshPrivateKey(key, comment),
                                 ssh::CertificateLine(*cert, comment));
          !s.ok()) {
        return Fail("gate login", s);
      }
    } else {
      std::cerr << "gate login: note: cannot list the cluster's nodes (" << names.error().message()
                << "); ssh trusts the cluster's host CA only for *." << profile.cluster
                << " until the next login\n";
    }
    if (Status s = home.WriteClusterTrust(profile, *host_ca); !s.ok()) {
      return Fail("gate login", s);
    }

    if (const char* sock = std::getenv("SSH_AUTH_SOCK"); sock != nullptr && sock[0] != '\0') {
      const auto lifetime =
          static_cast<std::uint32_t>(std::max<std::int64_t>(profile.valid_before - now, 1));
      if (Status s = AddToAgent(sock, key, *cert, lifetime, comment); !s.ok()) {
        std::cerr << "gate login: note: could not add the key to ssh-agent: " << s.message()
                  << "\n";
      }
    }
    std::cout << FormatProfile(profile, now) << std::flush;
    return kExitOk;
  }

  // The names of the cluster's nodes, as gate-ca lists them.
  static Result<std::vector<std::string>> NodeNames(const ProfileStore& store, std::int64_t now) {
    auto client = SessionClient::FromProfile(store, ProxyFlags{}, now);
    if (!client) return Err(client.error());
    auto reply = client->Nodes();
    if (!reply) return Err(reply.error());
    std::vector<std::string> names;
    for (const Json::Value& name : (*reply)["host_names"]) names.push_back(name.asString());
    return names;
  }

  // A certificate dated in this computer's future means gate-ca's clock is
  // ahead: ssh would refuse it with no word of why until the clocks meet.
  static void WarnAboutClockSkew(const Profile& profile, std::int64_t now) {
    if (profile.valid_after > now) {
      std::cerr << "gate login: WARNING: the certificate is valid only from "
                << UtcTime(profile.valid_after) << " UTC"
                << ", " << FormatDuration(std::chrono::seconds(profile.valid_after - now))
                << " from now by this computer's clock: gate-ca's clock is ahead of this "
                   "computer's (clock skew). ssh will refuse the certificate until then; set "
                   "the clocks right (NTP) and log in again.\n";
    } else if (profile.valid_before <= now) {
      std::cerr << "gate login: WARNING: the certificate expired at "
                << UtcTime(profile.valid_before) << " UTC"
                << " by this computer's clock: gate-ca's clock is behind this computer's (clock "
                   "skew). Set the clocks right (NTP) and log in again.\n";
    }
  }

  ProxyFlags flags_;
  std::string user_;
  std::string auth_;
  std::string browser_;
  std::string ttl_text_;
};

}  // namespace

std::unique_ptr<Command> MakeLoginCommand() { return std::make_unique<LoginCommand>(); }

}  // namespace gate::cli
