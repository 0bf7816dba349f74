#include "sshd-hooks/node/session_upload.h"

#include <openssl/evp.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "gate/asciicast.h"
#include "gate/bytes.h"
#include "gate/cptr.h"
#include "gate/json.h"
#include "gate/log.h"
#include "gate/secure_file.h"
#include "gate/uuid.h"

namespace gate::hooks {
namespace {

constexpr std::string_view kSuffix = ".cast";
// The header and the last two lines are far below this.
constexpr std::size_t kEdgeBytes = 64 * 1024;
// What gate-ca takes in one chunk.
constexpr std::uint64_t kMaxChunk = 1 << 20;
// 409s in a row for one file before the pass gives up on it.
constexpr int kMaxConflicts = 4;

Status Errno(const std::string& what) { return Unavailable(what + ": " + std::strerror(errno)); }

Result<std::string> Sha256Hex(const ReadableFile& file, std::uint64_t size) {
  CPtr<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return Err(Internal("cannot start SHA-256"));
  }
  for (std::uint64_t off = 0; off < size;) {
    auto block =
        file.ReadAt(off, static_cast<std::size_t>(std::min<std::uint64_t>(size - off, 1 << 20)));
    if (!block) return Err(block.error());
    if (block->empty()) return Err(DataLoss("the file shrank while it was being hashed"));
    if (EVP_DigestUpdate(ctx.get(), block->data(), block->size()) != 1) {
      return Err(Internal("SHA-256 failed"));
    }
    off += block->size();
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1) return Err(Internal("SHA-256 failed"));
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), len));
}

// True if the recording ends with its "x" event and the checkpoint after
// it: the recorder closed it (docs/recording.md, "Checkpoints").
bool EndsComplete(const ReadableFile& file, std::uint64_t size) {
  auto head = file.ReadAt(0, static_cast<std::size_t>(std::min<std::uint64_t>(size, kEdgeBytes)));
  if (!head) return false;
  const std::size_t nl = head->find('\n');
  if (nl == std::string::npos) return false;
  const std::uint64_t tail_start = size > kEdgeBytes ? size - kEdgeBytes : 0;
  auto tail = file.ReadAt(tail_start, static_cast<std::size_t>(size - tail_start));
  if (!tail || tail->empty() || tail->back() != '\n') return false;
  // The last two lines.
  std::size_t cut = tail->size() - 1;
  for (int lines = 0; lines < 2; ++lines) {
    const std::size_t prev = cut == 0 ? std::string::npos : tail->rfind('\n', cut - 1);
    if (prev == std::string::npos) return false;
    cut = prev;
  }
  if (tail_start + cut < nl) return false;  // those "lines" include the header
  auto recording = cast::Parse(head->substr(0, nl + 1) + tail->substr(cut + 1));
  return recording && recording->events.size() == 2 && recording->events[0].type == cast::kExit &&
         recording->events[1].type == cast::kCheckpoint;
}

// 409 bodies carry gate-ca's size; anything else is an error.
Result<std::uint64_t> ConflictSize(const Json::Value& body) {
  if (body.isObject() && body.isMember("size") && body["size"].isUInt64()) {
    return body["size"].asUInt64();
  }
  return Err(Internal("no size in gate-ca's answer"));
}

Result<Json::Value> ParseBody(const HttpRawResponse& r) {
  if (r.body.empty()) return Json::Value();
  return json::Parse(r.body);
}

}  // namespace

// --- HttpUploadTarget --------------------------------------------------------------

Result<UploadTarget::Ack> HttpUploadTarget::PutChunk(const std::string& id, std::uint64_t offset,
                                                     std::string_view bytes) {
  HttpRawRequest req;
  req.method = "PUT";
  req.target = "/v1/nodes/sessions/" + id + "?offset=" + std::to_string(offset);
  req.body = std::string(bytes);
  req.content_type = "application/octet-stream";
  auto r = client_.Send(req);
  if (!r) return Err(r.error());
  auto body = ParseBody(*r);
  const std::string url = client_.options().base_url + "/v1/nodes/sessions/" + id;
  if (!body) return Err(DataLoss("invalid answer from " + url + ": " + body.error().message()));
  if (r->status == 200 || r->status == 409) {
    auto size = ConflictSize(*body);
    if (size) return Ack{r->status == 409, *size};
  }
  return Err(StatusFromErrorReply(r->status, *body, url));
}

Result<UploadTarget::Completion> HttpUploadTarget::Complete(const std::string& id,
                                                            std::uint64_t size,
                                                            const std::string& sha256) {
  Json::Value request;
  request["size"] = Json::UInt64(size);
  request["sha256"] = sha256;
  HttpRawRequest req;
  req.method = "POST";
  req.target = "/v1/nodes/sessions/" + id + "/complete";
  req.body = json::Write(request);
  req.content_type = "application/json";
  auto r = client_.Send(req);
  if (!r) return Err(r.error());
  auto body = ParseBody(*r);
  const std::string url = client_.options().base_url + req.target;
  if (!body) return Err(DataLoss("invalid answer from " + url + ": " + body.error().message()));
  if (r->status == 409) {
    if (auto resume = ConflictSize(*body); resume) return Completion{true, *resume, "", false, ""};
  }
  if (r->status != 200) return Err(StatusFromErrorReply(r->status, *body, url));
  Completion c;
  auto got = ConflictSize(*body);
  auto digest = json::GetString(*body, "sha256");
  if (!got || !digest || !(*body)["verified"].isBool()) {
    return Err(DataLoss("unexpected answer from " + url));
  }
  c.size = *got;
  c.sha256 = *digest;
  c.verified = (*body)["verified"].asBool();
  c.verify_detail = (*body)["verify_detail"].isString() ? (*body)["verify_detail"].asString() : "";
  return c;
}

// --- Uploader ---------------------------------------------------------------------

Uploader::Uploader(UploaderOptions options, UploadTarget& target, std::function<std::int64_t()> now,
                   Env* env)
    : options_(std::move(options)), target_(target), now_(std::move(now)), env_(env) {}

PassReport Uploader::RunOnce() {
  PassReport report;
  auto fail_pass = [&report](const Status& s) {
    log::Warning("upload: " + s.message());
    report.problems.push_back(s.message());
    report.failed = 1;
    return report;
  };
  const std::string& spool = options_.spool_dir;
  auto dir = env_->OpenDirectory(spool);
  if (!dir) {
    if (dir.error().code() == Code::kNotFound) {
      return fail_pass(NotFound("spool " + spool + " does not exist"));
    }
    return fail_pass(dir.error().WithContext("spool"));
  }
  auto dir_info = (*dir)->StatSelf();
  if (!dir_info) return fail_pass(dir_info.error());
  // The spool belongs to the recorder's user, whoever that is here; each
  // recording must then be owned by the same uid (UploadFile). Whoever
  // else can write the spool could make us ship any file as a recording.
  SafePathOptions safe;
  safe.subject = "spool";
  safe.consequence = "refusing it: anyone who can write it could forge recordings";
  if (Status s = CheckSafeDirFd((*dir)->fd(), spool, dir_info->uid, safe); !s.ok()) {
    return fail_pass(s);
  }

  auto names = (*dir)->List();
  if (!names) return fail_pass(names.error());
  std::vector<std::string> ids;
  for (const std::string& name : *names) {
    if (name.size() <= kSuffix.size() ||
        std::string_view(name).substr(name.size() - kSuffix.size()) != kSuffix) {
      continue;
    }
    std::string id = name.substr(0, name.size() - kSuffix.size());
    if (IsCanonicalUuid(id)) ids.push_back(std::move(id));
  }
  std::sort(ids.begin(), ids.end());
  for (const std::string& id : ids) {
    ++report.files;
    if (Status s = UploadFile(**dir, dir_info->uid, id, &report); !s.ok()) {
      ++report.failed;
      const std::string problem = "session " + id + ": " + s.message();
      log::Warning("upload: " + problem);
      report.problems.push_back(problem);
    }
  }
  // Forget sessions whose files are gone (deleted here, or by an admin).
  for (auto it = acked_.begin(); it != acked_.end();) {
    it = std::binary_search(ids.begin(), ids.end(), it->first) ? std::next(it) : acked_.erase(it);
  }
  return report;
}

Status Uploader::UploadFile(Directory& dir, uid_t owner, const std::string& id,
                            PassReport* report) {
  const std::string name = id + std::string(kSuffix);
  const std::string path = dir.path() + "/" + name;
  auto file = dir.NewReadableFile(name);
  if (!file) {
    if (file.error().code() == Code::kNotFound) return Status::Ok();  // gone since the listing
    return file.error();
  }
  const int fd = (*file)->fd();  // for flock, which the Env does not wrap
  auto info = (*file)->Stat();
  if (!info) return info.error();
  // Only the recorder's own files: a hard link to anything else is refused.
  if (info->type != FileInfo::Type::kRegular || info->uid != owner || info->links != 1) {
    return PermissionDenied(path + " is not a regular file of the spool's owner with one link");
  }

  if (info->size == 0) {
    // The recorder creates the file, then takes its lock, then writes the
    // header: an empty file may be in that window, where our LOCK_EX would
    // make its non-blocking LOCK_SH fail (and the session be refused). So
    // an empty file is never locked here.
    if (now_() - info->mtime_unix_seconds >= options_.grace.count() &&
        warned_empty_.insert(id).second) {
      log::Warning("upload: session " + id + ": the recording " + path +
                   " is empty (its recorder died before writing anything); "
                   "nothing to upload, the file is left in place");
    }
    return Status::Ok();
  }

  bool finished = false;
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
    info = (*file)->Stat();
    if (!info) return info.error();
    finished = EndsComplete(**file, info->size) ||
               now_() - info->mtime_unix_seconds >= options_.grace.count();
    // A recorder may be about to take its shared lock on a new file: do
    // not keep it waiting.
    if (!finished) ::flock(fd, LOCK_UN);
  } else if (errno != EWOULDBLOCK && errno != EINTR) {
    return Errno("cannot lock " + path);
  }
  const std::uint64_t size = info->size;

  // At most two rounds: a completion gate-ca refuses with "resume at N" is
  // followed at once, once.
  for (int round = 0; round < 2; ++round) {
    auto held = Ship(**file, id, size, finished, report);
    if (!held) return held.error();
    if (!finished) return Status::Ok();
    if (*held != size && *held <= size) {
      return Unavailable("gate-ca holds " + std::to_string(*held) + " of " + std::to_string(size) +
                         " bytes of " + path);
    }
    auto digest = Sha256Hex(**file, size);
    if (!digest) return digest.error().WithContext(path);
    auto done = target_.Complete(id, size, *digest);
    if (!done) {
      acked_.erase(id);  // ask gate-ca again next time
      return done.error();
    }
    if (done->conflict) {
      log::Warning("upload: session " + id + ": gate-ca asks to resume at byte " +
                   std::to_string(done->size) +
                   (done->size == 0 ? " (its copy did not match and was discarded)" : ""));
      acked_[id] = done->size;
      continue;
    }
    if (done->size != size || done->sha256 != *digest) {
      return DataLoss("gate-ca acknowledged " + std::to_string(done->size) +
                      " bytes with another digest; " + path + " is kept");
    }
    return RemoveAcknowledged(dir, name, *info, *done, report);
  }
  return Unavailable("gate-ca kept asking for " + path + " again; will retry");
}

Status Uploader::RemoveAcknowledged(Directory& dir, const std::string& name,
                                    const FileInfo& uploaded, const UploadTarget::Completion& done,
                                    PassReport* report) {
  const std::string id = name.substr(0, name.size() - kSuffix.size());
  const std::string path = dir.path() + "/" + name;
  // Delete exactly the file that was acknowledged, not whatever has its
  // name now.
  auto now_info = dir.Stat(name);
  if (!now_info || !now_info->SameFileAs(uploaded)) {
    return FailedPrecondition(path + " was replaced after it was uploaded; not deleting it");
  }
  // A failed delete keeps what gate-ca said (acked_): the next pass sends
  // no bytes, completes again (gate-ca answers the same) and deletes then.
  if (Status s = dir.Remove(name); !s.ok()) {
    return s.WithContext(
        "gate-ca holds all of the recording, but it stays in the spool until "
        "the next pass");
  }
  // Until the spool is synced the removal may be undone by a crash; the file
  // would then be completed again, without sending its bytes twice.
  if (Status s = dir.Sync(); !s.ok()) {
    return s.WithContext("removed the uploaded " + path +
                         ", but the removal is not yet durable; if it reappears after a crash "
                         "it is completed again without being re-sent");
  }
  acked_.erase(id);
  ++report->completed;
  log::Info("upload: session " + id + ": " + std::to_string(uploaded.size) + " bytes at gate-ca, " +
            (done.verified ? "verified" : "NOT verified") +
            (done.verify_detail.empty() ? "" : " (" + done.verify_detail + ")") +
            "; removed from the spool");
  return Status::Ok();
}

Result<std::uint64_t> Uploader::Ship(const ReadableFile& file, const std::string& id,
                                     std::uint64_t size, bool finished, PassReport* report) {
  std::uint64_t held = 0;
  if (auto it = acked_.find(id); it != acked_.end()) {
    held = it->second;
  } else {
    auto probe = target_.PutChunk(id, 0, "");
    if (!probe) return Err(probe.error());
    held = probe->size;
    acked_[id] = held;
  }
  int conflicts = 0;
  while (held < size) {
    std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(size - held, options_.chunk_bytes));
    if (held == 0) {
      // gate-ca needs the whole header line in the first chunk; a recorder
      // still writing it gets another second.
      auto head =
          file.ReadAt(0, static_cast<std::size_t>(std::min<std::uint64_t>(size, kMaxChunk)));
      if (!head) return Err(head.error().WithContext("reading the recording"));
      const std::size_t nl = head->find('\n');
      if (nl == std::string::npos) {
        if (!finished) return held;
        return Err(DataLoss("the recording has no complete header line"));
      }
      n = std::max(n, nl + 1);
    }
    auto bytes = file.ReadAt(held, n);
    if (!bytes) return Err(bytes.error().WithContext("reading the recording"));
    if (bytes->size() != n) return Err(DataLoss("the recording shrank while it was read"));
    auto ack = target_.PutChunk(id, held, *bytes);
    if (!ack) {
      acked_.erase(id);
      return Err(ack.error());
    }
    if (ack->conflict) {
      if (++conflicts > kMaxConflicts) {
        acked_.erase(id);
        return Err(Unavailable("gate-ca keeps reporting another size (" +
                               std::to_string(ack->size) + ")"));
      }
      log::Info("upload: session " + id + ": gate-ca holds " + std::to_string(ack->size) +
                " bytes; resuming there");
    } else {
      report->bytes_sent += n;
    }
    held = ack->size;
    acked_[id] = held;
  }
  if (held > size && !finished) {
    return Err(DataLoss("gate-ca holds " + std::to_string(held) + " bytes, more than the " +
                        std::to_string(size) + " in the spool"));
  }
  return held;
}

std::chrono::seconds Backoff::Next(bool pass_ok) {
  if (pass_ok) {
    failing_ = std::chrono::seconds(0);
    return std::chrono::seconds(1);
  }
  failing_ = failing_.count() == 0 ? std::chrono::seconds(1)
                                   : std::min(failing_ * 2, std::chrono::seconds(60));
  return failing_;
}

}  // namespace gate::hooks
