#include "sshd-hooks/node/sshd.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string_view>

#include "gate/secure_file.h"
#include "sshd-hooks/node/process.h"

namespace gate::hooks {
namespace {

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  while (!s.empty() && (s.front() == '\n' || s.front() == ' ')) s.remove_prefix(1);
  return std::string(s);
}

const char* FindSystemctl() {
  for (const char* p : {"/usr/bin/systemctl", "/bin/systemctl"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return nullptr;
}

Status SignalFromPidfile(const std::string& pidfile) {
  FilePolicy policy;  // owned by us (root), not writable by others
  policy.secret = false;
  policy.max_size = 64;
  auto text = ReadSecureFile(pidfile, policy);
  if (!text) return text.error().WithContext("cannot reload sshd");
  const std::string trimmed = Trim(text->view());
  long pid = 0;
  auto [ptr, ec] = std::from_chars(trimmed.data(), trimmed.data() + trimmed.size(), pid);
  if (trimmed.empty() || ec != std::errc() || ptr != trimmed.data() + trimmed.size() || pid <= 1 ||
      pid > 1L << 30) {
    return FailedPrecondition("cannot reload sshd: " + pidfile + " does not hold a process id");
  }
  auto comm = ReadFile("/proc/" + std::to_string(pid) + "/comm", 256);
  if (!comm) {
    return FailedPrecondition("cannot reload sshd: process " + std::to_string(pid) + " (from " +
                              pidfile + ") is not running");
  }
  if (Trim(*comm) != "sshd") {
    return FailedPrecondition("cannot reload sshd: process " + std::to_string(pid) + " (from " +
                              pidfile + ") is '" + Trim(*comm) + "', not sshd");
  }
  if (::kill(static_cast<pid_t>(pid), SIGHUP) != 0) {
    return FailedPrecondition("cannot reload sshd: kill -HUP " + std::to_string(pid) + ": " +
                              std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace

Status TestSshdConfig(const std::string& binary, const std::string& config) {
  auto r = RunProcess({binary, "-t", "-f", config});
  if (!r) return r.error();
  if (r->exit_code != 0) {
    std::string out = Trim(r->output);
    if (out.empty()) out = "(no output; exit status " + std::to_string(r->exit_code) + ")";
    return FailedPrecondition("sshd rejects the configuration (" + binary + " -t -f " + config +
                              "):\n" + out);
  }
  return Status::Ok();
}

Result<bool> SshdEffectiveSettingIs(const std::string& binary, const std::string& config,
                                    const std::string& keyword, const std::string& value) {
  auto r = RunProcess({binary, "-T", "-f", config});
  if (!r) return Err(r.error());
  if (r->exit_code != 0) {
    return Err(FailedPrecondition(binary + " -T -f " + config + " failed:\n" + Trim(r->output)));
  }
  const std::string want = keyword + " " + value;
  std::string_view out = r->output;
  while (!out.empty()) {
    const std::size_t nl = out.find('\n');
    std::string_view line = out.substr(0, nl);
    if (line == want) return true;
    out.remove_prefix(nl == std::string_view::npos ? out.size() : nl + 1);
  }
  return false;
}

ReloadMethod ChooseReloadMethod(bool no_reload, const std::string& pidfile_flag) {
  ReloadMethod m;
  if (no_reload) return m;
  if (!pidfile_flag.empty()) {
    m.kind = ReloadMethod::Kind::kPidfile;
    m.pidfile = pidfile_flag;
    return m;
  }
  struct stat st {};
  // sd_booted()'s test, without linking libsystemd.
  if (::lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode)) {
    m.kind = ReloadMethod::Kind::kSystemd;
    return m;
  }
  m.kind = ReloadMethod::Kind::kPidfile;
  m.pidfile = kDefaultSshdPidfile;
  return m;
}

std::string DescribeReloadMethod(const ReloadMethod& method) {
  switch (method.kind) {
    case ReloadMethod::Kind::kNone:
      return "no reload (--no-reload)";
    case ReloadMethod::Kind::kSystemd:
      return "systemctl reload ssh";
    case ReloadMethod::Kind::kPidfile:
      return "SIGHUP to the pid in " + method.pidfile;
  }
  return "unknown";
}

Status ReloadSshd(const ReloadMethod& method) {
  switch (method.kind) {
    case ReloadMethod::Kind::kNone:
      return Status::Ok();
    case ReloadMethod::Kind::kPidfile:
      return SignalFromPidfile(method.pidfile);
    case ReloadMethod::Kind::kSystemd: {
      const char* systemctl = FindSystemctl();
      if (systemctl == nullptr) {
        return Unavailable("cannot reload sshd: systemctl not found (use --sshd-pidfile)");
      }
      auto r = RunProcess({systemctl, "reload", "ssh"});
      if (!r) return r.error().WithContext("cannot reload sshd");
      if (r->exit_code != 0) {
        return FailedPrecondition("systemctl reload ssh failed:\n" + Trim(r->output));
      }
      return Status::Ok();
    }
  }
  return Internal("unknown reload method");
}

}  // namespace gate::hooks
