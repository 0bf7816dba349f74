// Loading recorder.json with the checks a setuid reader needs.
#include "gate/recorder_settings.h"
#include "gate/secure_file.h"

namespace gate::recorder {

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
