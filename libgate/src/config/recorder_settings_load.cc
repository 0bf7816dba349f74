// Loading recorder.json with the checks a setuid reader needs.
#include <cstdlib>

#include "gate/recorder_settings.h"
#include "gate/secure_file.h"

namespace gate::recorder {

std::string PublicKeyPath(std::string_view settings_path) {
  const std::size_t slash = settings_path.find_last_of('/');
  const std::string_view dir =
      slash == std::string_view::npos ? "." : settings_path.substr(0, slash);
  return std::string(dir) + "/recorder.pub";
}

std::string SettingsPathFromEnvironment() {
  const char* path = std::getenv("GATE_RECORDER_CONFIG");
  return path != nullptr && *path != '\0' ? path : std::string(kDefaultSettingsPath);
}

Status CheckRootOwnedPath(const std::string& path, uid_t owner, const std::string& top) {
  SafePathOptions options;
  options.links = SafePathOptions::Links::kResolve;
  options.top = top;
  options.subject = "refusing recorder settings";
  options.consequence =
      "the recorder runs setuid, so its settings file and every directory above it must be "
      "owned by root and not writable by group or others";
  return CheckSafePath(path, owner, options);
}

Result<Settings> LoadSettings(const std::string& path, uid_t owner, const std::string& top) {
  GATE_RETURN_IF_ERROR(CheckRootOwnedPath(path, owner, top));
  FilePolicy policy;
  policy.allowed_owners = {owner};
  policy.secret = false;
  policy.max_size = kMaxSettingsSize;
  // Opened again with O_NOFOLLOW and checked on the descriptor: the walk
  // above proved nobody but the owner can swap the file in between.
  auto text = ReadSecureFile(path, policy);
  if (!text) return Err(text.error());
  auto settings = ParseSettings(text->view());
  if (!settings) return Err(settings.error().WithContext(path));
  return settings;
}

}  // namespace gate::recorder
