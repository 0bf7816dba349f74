#include "recorder/join/join_history.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "gate/log.h"

namespace gate::recorder {
namespace {

// Punching a hole per write would cost a syscall per write; freeing in
// steps keeps the disk within the cap plus one step.
constexpr std::uint64_t kPunchStep = 1024 * 1024;
constexpr std::uint64_t kBlock = 4096;

}  // namespace

struct JoinHistory::Spool {
  std::unique_ptr<WritableFile> writer;
  std::unique_ptr<ReadableFile> reader;
  std::string shown;  // its former path, for the log
  // Bytes below this offset have been punched out of the file.
  std::uint64_t kept_from = 0;
};

std::string DescribeBytes(std::uint64_t bytes) {
  constexpr std::uint64_t kKiB = 1024;
  if (bytes != 0 && bytes % (kKiB * kKiB) == 0) return std::to_string(bytes / kKiB / kKiB) + " MiB";
  if (bytes != 0 && bytes % kKiB == 0) return std::to_string(bytes / kKiB) + " KiB";
  return std::to_string(bytes) + " bytes";
}

Result<std::unique_ptr<JoinHistory::Spool>> JoinHistory::OpenSpool(Env& env,
                                                                   const std::string& dir_path,
                                                                   const std::string& name) {
  auto dir = env.OpenDirectory(dir_path);
  if (!dir) return Err(dir.error());
  auto writer = (*dir)->NewWritableFile(name, WriteMode::kCreateExclusive, 0600);
  if (!writer) return Err(writer.error());
  auto reader = (*dir)->NewReadableFile(name);
  // Unlinked at once: no one else can ever open it by name, and the disk
  // space comes back when the recorder exits, however it exits.
  if (Status removed = (*dir)->Remove(name); !removed.ok()) {
    return Err(removed.WithContext("cannot unlink it; remove it by hand"));
  }
  if (!reader) return Err(reader.error());
  auto spool = std::make_unique<Spool>();
  spool->writer = std::move(*writer);
  spool->reader = std::move(*reader);
  spool->shown = dir_path + "/" + name;
  return spool;
}

JoinHistory::JoinHistory(const JoinHistoryOptions& options)
    : options_(options), ring_(options.ring_bytes) {
  if (options_.spool_dir.empty() || options_.cap_bytes == 0) return;
  Env& env = options_.env != nullptr ? *options_.env : *Env::Default();
  auto spool = OpenSpool(env, options_.spool_dir, options_.spool_name);
  if (!spool) {
    log::Warning("join: cannot keep the history for joiners in " + options_.spool_dir + "/" +
                 options_.spool_name + ": " + spool.error().message() +
                 "; joiners see only the last " + DescribeBytes(options_.ring_bytes) +
                 " of the session's output");
    return;
  }
  spool_ = std::move(*spool);
}

JoinHistory::~JoinHistory() = default;

bool JoinHistory::spooled() const { return spool_ != nullptr; }

void JoinHistory::DropSpool(const std::string& why) {
  log::Warning("join: " + why + "; joiners now see only the last " +
               DescribeBytes(options_.ring_bytes) + " of the session's output");
  spool_.reset();
}

void JoinHistory::Append(std::string_view bytes) {
  if (bytes.empty()) return;
  ring_.Append(bytes);
  if (!spool_) return;
  if (Status s = spool_->writer->Append(bytes); !s.ok()) {
    DropSpool("cannot keep the history for joiners: " + s.message());
    return;
  }
  // Keep the last cap_bytes and the byte before them (it tells whether they
  // start a line); free whole blocks below that.
  const std::uint64_t total = end();
  if (total <= options_.cap_bytes + 1) return;
  const std::uint64_t keep_from = (total - options_.cap_bytes - 1) / kBlock * kBlock;
  if (keep_from < spool_->kept_from + kPunchStep) return;
  if (::fallocate(spool_->writer->fd(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  static_cast<off_t>(spool_->kept_from),
                  static_cast<off_t>(keep_from - spool_->kept_from)) != 0) {
    DropSpool("cannot keep the history for joiners within " + DescribeBytes(options_.cap_bytes) +
              ": " + ErrnoStatus("free the start of", spool_->shown, errno).message());
    return;
  }
  spool_->kept_from = keep_from;
}

HistoryStart JoinHistory::Start() const {
  HistoryStart start;
  if (spool_) {
    if (end() <= options_.cap_bytes) return start;
    start.offset = end() - options_.cap_bytes - 1;
    start.skip_to_line = true;
    start.notice = "history before the last " + DescribeBytes(options_.cap_bytes) + " is not shown";
    return start;
  }
  start.offset = end() - ring_.Replay().size();
  if (start.offset > 0) {
    start.notice =
        "history before the last " + DescribeBytes(options_.ring_bytes) + " is not shown";
  }
  return start;
}

Result<std::string> JoinHistory::Read(std::uint64_t offset, std::size_t max_bytes) {
  if (auto held = ring_.From(offset); held && !held->empty()) {
    return std::string(held->substr(0, max_bytes));
  }
  if (!spool_ || offset < spool_->kept_from || offset >= end()) {
    return Err(NotFound("the history at byte " + std::to_string(offset) + " is no longer kept"));
  }
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(max_bytes, end() - offset));
  auto data = spool_->reader->ReadAt(offset, n);
  if (!data || data->empty()) {
    DropSpool("cannot read the history for joiners: " +
              (data ? spool_->shown + " ends early" : data.error().message()));
    return Err(NotFound("the history at byte " + std::to_string(offset) + " is no longer kept"));
  }
  return data;
}

}  // namespace gate::recorder
