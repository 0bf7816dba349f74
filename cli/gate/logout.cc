// gate logout: forget the key and certificate (files and ssh-agent).
#include <cstdlib>
#include <iostream>

#include "cli/common/agent.h"
#include "cli/common/profile.h"
#include "cli/gate/commands.h"
#include "gate/certificate.h"
#include "gate/exit_code.h"
#include "gate/secure_file.h"

namespace gate::cli {
namespace {

class LogoutCommand final : public Command {
 public:
  void Define(CLI::App& sub) override {
    sub.footer(
        "Removes the current profile's key, certificate and profile (~/.gate/keys/PROXY/USER),\n"
        "and the certificate from ssh-agent if SSH_AUTH_SOCK is set. The cluster's host CA\n"
        "stays in ~/.gate/known_hosts, so ssh to its nodes says you are not logged in rather\n"
        "than asking whether to trust an unknown host key. Other profiles stay; log in to\n"
        "one of them with gate login --proxy HOST.");
  }

  int Run() override {
    auto home = ProfileHome::Default();
    if (!home) return Fail("gate logout", home.error());
    auto store = home->Current();
    if (!store) {
      if (store.error().code() != Code::kNotFound) return Fail("gate logout", store.error());
      std::cout << "Not logged in; nothing to remove.\n";
      return kExitOk;
    }
    auto profile = store->Load();
    if (const char* sock = std::getenv("SSH_AUTH_SOCK"); sock != nullptr && sock[0] != '\0') {
      if (auto line = ReadFile(store->CertPath(), 64 * 1024); line) {
        if (auto cert = ssh::ParseCertificateLine(*line); cert) {
          (void)RemoveFromAgent(sock, *cert);  // best effort: the agent may be gone
        }
      }
    }
    if (Status s = store->Remove(); !s.ok()) return Fail("gate logout", s);
    if (Status s = home->ClearCurrent(); !s.ok()) return Fail("gate logout", s);
    if (profile) {
      std::cout << "Logged out " << profile->user << " from " << profile->proxy << ".\n";
    } else {
      std::cout << "Not logged in; nothing to remove.\n";
    }
    return kExitOk;
  }
};

}  // namespace

std::unique_ptr<Command> MakeLogoutCommand() { return std::make_unique<LogoutCommand>(); }

}  // namespace gate::cli
