#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

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

// The host's functions a plugin calls back (plugin_abi.h): `host` is the
// FactorContext of the call in progress.
void HostLog(void* /*host*/, int level, const char* line) {
  if (line == nullptr || level < GATE_PAM_LOG_DEBUG || level > GATE_PAM_LOG_ERROR) return;
  log::Write(static_cast<log::Level>(level), line);
}

int HostPromptSecret(void* host, const char* prompt, char* buf, std::size_t size) {
  if (buf == nullptr || size == 0) return 0;
  Wipe(buf, size);
  if (prompt == nullptr) return 0;
  SecretString answer;
  auto* context = static_cast<FactorContext*>(host);
  if (!context->conversation.PromptSecret(prompt, &answer) || answer.size() >= size) return 0;
  std::memcpy(buf, answer.data(), answer.size());
  return 1;
}

void HostInfo(void* host, const char* text) {
  if (text != nullptr) static_cast<FactorContext*>(host)->conversation.Info(text);
}

void HostError(void* host, const char* text) {
  if (text != nullptr) static_cast<FactorContext*>(host)->conversation.Error(text);
}

// A loaded plugin's factor, as seen from pam_gate.so.
class PluginFactor final : public Factor {
 public:
  PluginFactor(const gate_pam_plugin* plugin, std::vector<std::string> args, log::Level level)
      : plugin_(plugin), args_(std::move(args)), level_(level) {}

  Outcome Authenticate(FactorContext& context) override {
    std::vector<const char*> argv;
    argv.reserve(args_.size());
    for (const std::string& arg : args_) argv.push_back(arg.c_str());
    gate_pam_call call{};
    call.abi_version = GATE_PAM_PLUGIN_ABI_VERSION;
    call.struct_size = sizeof(call);
    call.argc = static_cast<int>(argv.size());
    call.argv = argv.data();
    call.pam_user = context.pam_user.c_str();
    call.gate_user = context.gate_user.c_str();
    call.min_log_level = static_cast<int>(level_);
    call.host = &context;
    call.log = &HostLog;
    call.prompt_secret = &HostPromptSecret;
    call.info = &HostInfo;
    call.error = &HostError;
    return FromAbiOutcome(plugin_->authenticate(&call));
  }

 private:
  const gate_pam_plugin* plugin_;  // static in the plugin, which is never unloaded
  std::vector<std::string> args_;
  log::Level level_;
};

}  // namespace

std::unique_ptr<Factor> LoadPluginFactor(std::string_view name, std::vector<std::string> args,
                                         log::Level level) {
  auto dir = PluginDir();
  if (!dir) {
    log::Error("plugin " + std::string(name) + ": " + dir.error().message());
    return nullptr;
  }
  const std::string path = *dir + "/" + std::string(name);
  if (Status s = CheckDir(*dir); !s.ok()) {
    log::Error("refusing plugin directory: " + s.message());
    return nullptr;
  }
  FilePolicy policy;
  policy.allowed_owners = {0, ::geteuid()};
  policy.secret = false;
  policy.max_size = 64 << 20;
  auto fd = OpenSecureFile(path, policy);
  if (!fd) {
    log::Error("refusing plugin: " + fd.error().message());
    return nullptr;
  }
  // Load the very file just checked. RTLD_NODELETE: a factor's code must stay
  // mapped for as long as anything it made might run, and the process (an
  // sshd child, sudo) is short-lived anyway.
  const std::string by_fd = "/proc/self/fd/" + std::to_string(fd->get());
  void* handle = ::dlopen(by_fd.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    log::Error("cannot load plugin " + path + ": " + (why != nullptr ? why : "?"));
    return nullptr;
  }
  const std::string rebuild = " (install the plugin from the same build as pam_gate.so)";
  auto entry = reinterpret_cast<gate_pam_plugin_fn>(::dlsym(handle, GATE_PAM_PLUGIN_SYMBOL));
  if (entry == nullptr) {
    log::Error("refusing plugin " + path + ": it has no " + GATE_PAM_PLUGIN_SYMBOL +
               ", so it was built for another pam_gate.so" + rebuild);
    return nullptr;
  }
  const gate_pam_plugin* plugin = entry();
  if (plugin == nullptr) {
    log::Error("refusing plugin " + path + ": it describes no plugin");
    return nullptr;
  }
  // Only the two leading fields may be read before the version is known.
  if (plugin->abi_version != GATE_PAM_PLUGIN_ABI_VERSION) {
    log::Error("refusing plugin " + path + ": it speaks plugin interface version " +
               std::to_string(plugin->abi_version) + ", this pam_gate.so speaks version " +
               std::to_string(GATE_PAM_PLUGIN_ABI_VERSION) + rebuild);
    return nullptr;
  }
  if (plugin->struct_size < sizeof(gate_pam_plugin)) {
    log::Error("refusing plugin " + path + ": its description is " +
               std::to_string(plugin->struct_size) + " bytes, version " +
               std::to_string(GATE_PAM_PLUGIN_ABI_VERSION) + "'s is " +
               std::to_string(sizeof(gate_pam_plugin)) + rebuild);
    return nullptr;
  }
  if (plugin->authenticate == nullptr) {
    log::Error("refusing plugin " + path + ": it has no authenticate function");
    return nullptr;
  }
  return std::make_unique<PluginFactor>(plugin, std::move(args), level);
}

}  // namespace gate::pam
