// The node side of central collection (docs/recording.md, "Central
// collection"): `gate-node upload` ships each recording in the spool to
// gate-ca, and deletes it only after gate-ca acknowledged the whole file
// with a matching size and SHA-256.
//
// A recording is live while its recorder holds flock(LOCK_SH) on it; the
// uploader then ships the bytes written so far. When the uploader gets
// LOCK_EX, the recording is finished if it ends with the "x" event and its
// checkpoint, or if it was last written more than `grace` ago (a recorder
// that died: the file is cut short, and still shipped). An unlocked file
// that is neither is shipped as live, and the lock is released at once.
// An empty file is never locked: the recorder creates the file, takes its
// LOCK_SH (non-blocking) and only then writes, so an empty file may be one
// whose recorder is between those steps.
//
// gate-ca is the source of truth for how much it holds: the uploader keeps
// what gate-ca last said in memory, asks again (an empty chunk) after a
// restart, and follows every 409 to the size gate-ca names.
//
// Thread safety: an Uploader is used by one thread.
#ifndef GATE_SSHD_HOOKS_NODE_SESSION_UPLOAD_H_
#define GATE_SSHD_HOOKS_NODE_SESSION_UPLOAD_H_

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gate/curl_http.h"
#include "gate/env.h"
#include "gate/http_client.h"
#include "gate/recorder_settings.h"
#include "gate/status.h"

namespace gate::hooks {

// gate-ca's side of the exchange. HttpUploadTarget is the real one.
class UploadTarget {
 public:
  virtual ~UploadTarget() = default;

  struct Ack {
    bool conflict = false;   // 409: the offset was not gate-ca's size
    std::uint64_t size = 0;  // gate-ca's size of the recording
  };
  // PUT /v1/nodes/sessions/{id}?offset=N. An error for anything but 200 or
  // a 409 that names gate-ca's size.
  virtual Result<Ack> PutChunk(const std::string& id, std::uint64_t offset,
                               std::string_view bytes) = 0;

  struct Completion {
    bool conflict = false;  // 409: resume at size (0: gate-ca discarded its copy)
    std::uint64_t size = 0;
    std::string sha256;
    bool verified = false;
    std::string verify_detail;
  };
  // POST /v1/nodes/sessions/{id}/complete.
  virtual Result<Completion> Complete(const std::string& id, std::uint64_t size,
                                      const std::string& sha256) = 0;
};

class HttpUploadTarget final : public UploadTarget {
 public:
  // options: the node's (NodeClientOptions), with the timeout to use.
  explicit HttpUploadTarget(HttpClientOptions options)
      : client_(CurlHttpClient(std::move(options))) {}
  Result<Ack> PutChunk(const std::string& id, std::uint64_t offset,
                       std::string_view bytes) override;
  Result<Completion> Complete(const std::string& id, std::uint64_t size,
                              const std::string& sha256) override;

 private:
  HttpClient client_;
};

struct UploaderOptions {
  std::string spool_dir{recorder::kDefaultSpoolDir};
  std::size_t chunk_bytes = 1 << 20;  // gate-ca takes at most 1 MiB per chunk
  std::chrono::seconds grace{30};
};

struct PassReport {
  int files = 0;      // recordings looked at
  int completed = 0;  // acknowledged and deleted
  int failed = 0;     // recordings whose upload failed this pass
  std::uint64_t bytes_sent = 0;
  // One line per failure, as logged: the session or spool, the file and
  // the cause.
  std::vector<std::string> problems;
  bool ok() const { return failed == 0; }
};

class Uploader {
 public:
  // now: unix seconds (compared with the files' mtimes). env: how the spool
  // is read, and recordings removed (tests pass a FaultEnv); not owned.
  Uploader(UploaderOptions options, UploadTarget& target, std::function<std::int64_t()> now,
           Env* env = Env::Default());

  // One pass over the spool; each problem is logged (with the session id)
  // and counted in failed, and the pass goes on with the next file. A spool
  // that cannot be read (missing, not a directory, writable by group or
  // others) counts as one failure.
  PassReport RunOnce();

 private:
  Status UploadFile(Directory& dir, uid_t owner, const std::string& id, PassReport* report);
  Result<std::uint64_t> Ship(const ReadableFile& file, const std::string& id, std::uint64_t size,
                             bool finished, PassReport* report);
  // Removes name once gate-ca acknowledged it (done), if it is still the
  // file uploaded, and syncs the spool; only then is it counted completed
  // and forgotten.
  Status RemoveAcknowledged(Directory& dir, const std::string& name, const FileInfo& uploaded,
                            const UploadTarget::Completion& done, PassReport* report);

  UploaderOptions options_;
  UploadTarget& target_;
  std::function<std::int64_t()> now_;
  Env* env_;
  std::map<std::string, std::uint64_t> acked_;  // what gate-ca last said it holds
  std::set<std::string> warned_empty_;
};

// Exponential backoff for the upload loop: 1 s after a good pass; after
// failed ones 1, 2, 4, ... seconds, at most 60.
class Backoff {
 public:
  std::chrono::seconds Next(bool pass_ok);

 private:
  std::chrono::seconds failing_{0};
};

}  // namespace gate::hooks

#endif  // GATE_SSHD_HOOKS_NODE_SESSION_UPLOAD_H_
