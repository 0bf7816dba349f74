#include "cli/common/openssh.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cli/common/terminal_text.h"
#include "gate/certificate.h"
#include "gate/secure_file.h"

namespace gate::cli {

Result<Profile> UsableProfile(const ProfileStore& store, std::int64_t now) {
  auto profile = store.Load();
  if (!profile) {
    if (profile.error().code() == Code::kNotFound) {
      return Err(NotFound("not logged in; run: gate login --proxy HOST"));
    }
    return Err(profile.error());
  }
  const std::string again = "; run: gate login --proxy " + profile->proxy;
  if (::access(store.CertPath().c_str(), R_OK) != 0) {
    return Err(NotFound("not logged in to " + profile->proxy + again));
  }
  if (profile->valid_before <= now) {
    return Err(FailedPrecondition("your Gate certificate expired at " +
                                  UtcTime(profile->valid_before) + " UTC" + again));
  }
  if (profile->valid_after > now) {
    return Err(FailedPrecondition(
        "your Gate certificate is valid only from " + UtcTime(profile->valid_after) +
        " UTC: gate-ca's clock is ahead of this computer's (clock skew); set the clocks right" +
        again));
  }
  return profile;
}

std::vector<std::string> OpenSshOptions(const ProfileStore& store) {
  // Quoted: ssh splits -o values like config lines.
  return {"-o", "IdentityFile=\"" + store.KeyPath() + "\"",
          "-o", "CertificateFile=\"" + store.CertPath() + "\"",
          "-o", "UserKnownHostsFile=\"" + store.KnownHostsPath() + "\"",
          "-o", "IdentitiesOnly=yes",
          "-o", "StrictHostKeyChecking=yes"};
}

Result<int> RunAndWait(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  std::vector<std::string> copy = args;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_int {};
  struct sigaction old_quit {};
  ::sigaction(SIGINT, &ignore, &old_int);
  ::sigaction(SIGQUIT, &ignore, &old_quit);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGQUIT, &old_quit, nullptr);
    ::execvp(argv[0], argv.data());
    const std::string msg = "gate: cannot run " + args[0] + ": " + std::strerror(errno) + "\n";
    (void)!::write(STDERR_FILENO, msg.data(), msg.size());
    ::_exit(127);
  }
  Result<int> result = Err(Unavailable("cannot start " + args[0] + ": " + std::strerror(errno)));
  if (pid > 0) {
    int status = 0;
    pid_t r;
    do {
      r = ::waitpid(pid, &status, 0);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
      result = Err(Internal(std::string("waitpid: ") + std::strerror(errno)));
    } else if (WIFEXITED(status)) {
      result = WEXITSTATUS(status);
    } else {
      result = 128 + WTERMSIG(status);
    }
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGQUIT, &old_quit, nullptr);
  return result;
}

}  // namespace gate::cli
