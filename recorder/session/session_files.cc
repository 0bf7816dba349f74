#include "recorder/session/session_files.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "gate/json.h"
#include "gate/log.h"
#include "gate/secure_file.h"
#include "gate/uuid.h"

namespace gate::recorder {

Result<std::string> NewSessionId() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof(b)) != 1) return Err(Internal("RAND_bytes failed"));
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  char out[37];
  std::snprintf(out, sizeof(out),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return std::string(out);
}

bool IsSessionId(std::string_view id) { return IsCanonicalUuid(id); }

Status CheckSessionDir(const std::string& dir, bool private_dir) {
  SafePathOptions options;
  options.forbidden_bits = private_dir ? 077 : 022;
  Status s = CheckSafeDir(dir, ::geteuid(), options);
  if (s.code() == Code::kNotFound) {
    return NotFound(s.message() + " (systemd-tmpfiles creates it: gate-tmpfiles.conf)");
  }
  return s;
}

std::string RecordingPath(const std::string& spool_dir, const std::string& id) {
  return spool_dir + "/" + id + ".cast";
}

Result<std::unique_ptr<WritableFile>> CreateRecordingFile(Env& env, const std::string& spool_dir,
                                                          const std::string& id) {
  if (!IsSessionId(id)) return Err(InvalidArgument("bad session id"));
  const std::string path = RecordingPath(spool_dir, id);
  // kCreateExclusive sets 0600 exactly: the user's umask came with the exec.
  auto file = env.NewWritableFile(path, WriteMode::kCreateExclusive, 0600);
  if (!file) return Err(file.error());
  if (::flock((*file)->fd(), LOCK_SH | LOCK_NB) != 0) {
    const int err = errno;
    (void)(*file)->Close();
    RemoveRecordingFile(env, spool_dir, id);
    return Err(ErrnoStatus("lock", path, err));
  }
  return file;
}

void RemoveRecordingFile(Env& env, const std::string& spool_dir, const std::string& id) {
  if (!IsSessionId(id)) return;
  const Status s = env.RemoveFile(RecordingPath(spool_dir, id));
  if (!s.ok() && s.code() != Code::kNotFound) log::Warning(s.message());
}

Status WriteLiveSession(Env& env, const std::string& run_dir, const LiveSession& s) {
  if (!IsSessionId(s.session_id)) return InvalidArgument("bad session id");
  auto dir = env.OpenDirectory(run_dir);
  if (!dir) return dir.error();
  return WriteFileAtomicIn(**dir, s.session_id + ".json", json::Write(LiveSessionToJson(s)) + "\n",
                           0600);
}

void RemoveLiveSession(Env& env, const std::string& run_dir, const std::string& id) {
  if (!IsSessionId(id)) return;
  const Status s = env.RemoveFile(LiveSessionPath(run_dir, id));
  if (!s.ok() && s.code() != Code::kNotFound) log::Warning(s.message());
}

}  // namespace gate::recorder
