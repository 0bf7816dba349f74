#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "gate/secure_file.h"
#include "pam_module/plugin.h"

namespace gate::pam {
namespace {

// The directory this code was loaded from (pam_gate.so's), plus "/pam_gate".
Result<std::string> PluginDir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&LoadPluginFactor), &info) == 0 || info.dli_fname == nullptr) {
    return Err(Internal("cannot tell where pam_gate.so was loaded from"));
  }
  std::string path = info.dli_fname;
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return Err(Internal("pam_gate.so was loaded without a path"));
  return path.substr(0, slash) + "/pam_gate";
}

// The plugin directory: root's (or, for tests, this process's), not
// writable by group or others.
Status CheckDir(const std::string& dir) {
  SafePathOptions options;
  options.also_owned_by = {::geteuid()};
  options.subject = "plugin directory";
  options.consequence = "pam_gate.so loads code from it into every login";
  return CheckSafeDir(dir, 0, options);
}

}  // namespace

std::unique_ptr<Factor> LoadPluginFactor(std::string_view name, log::Level level) {
  auto dir = PluginDir();
  if (!dir) {
    log::Error("pam_gate: plugin " + std::string(name) + ": " + dir.error().message());
    return nullptr;
  }
  const std::string path = *dir + "/" + std::string(name);
  if (Status s = CheckDir(*dir); !s.ok()) {
    log::Error("pam_gate: refusing plugin directory: " + s.message());
    return nullptr;
  }
  FilePolicy policy;
  policy.allowed_owners = {0, ::geteuid()};
  policy.secret = false;
  policy.max_size = 64 << 20;
  auto fd = OpenSecureFile(path, policy);
  if (!fd) {
    log::Error("pam_gate: refusing plugin: " + fd.error().message());
    return nullptr;
  }
  // Load the very file just checked. RTLD_NODELETE: a factor's code must stay
  // mapped for as long as anything it made might run, and the process (an
  // sshd child, sudo) is short-lived anyway.
  const std::string by_fd = "/proc/self/fd/" + std::to_string(fd->get());
  void* handle = ::dlopen(by_fd.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    log::Error("pam_gate: cannot load plugin " + path + ": " + (why != nullptr ? why : "?"));
    return nullptr;
  }
  auto entry = reinterpret_cast<PluginEntry>(::dlsym(handle, kPluginSymbol));
  if (entry == nullptr) {
    log::Error("pam_gate: plugin " + path + " has no " + kPluginSymbol);
    return nullptr;
  }
  std::unique_ptr<Factor> factor(entry(static_cast<int>(level)));
  if (!factor) log::Error("pam_gate: plugin " + path + " made no factor");
  return factor;
}

}  // namespace gate::pam
