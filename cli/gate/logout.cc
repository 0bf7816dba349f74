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
        "Removes ~/.gate/key, key-cert.pub, known_hosts and profile.json, and the\n"
        "certificate from ssh-agent if SSH_AUTH_SOCK is set.");
  }

  int Run() override {
    auto store = ProfileStore::Default();
    if (!store) return Fail("gate logout", store.error());
    auto profile = store->Load();
    if (const char* sock = std::getenv("SSH_AUTH_SOCK"); sock != nullptr && sock[0] != '\0') {
      if (auto line = ReadFile(store->CertPath(), 64 * 1024); line) {
        if (auto cert = ssh::ParseCertificateLine(*line); cert) {
          (void)RemoveFromAgent(sock, *cert);  // best effort: the agent may be gone
        }
      }
    }
    if (Status s = store->Remove(); !s.ok()) return Fail("gate logout", s);
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
