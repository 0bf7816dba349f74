#include "gate/fault_env.h"

#include <unistd.h>

#include <cerrno>
#include <utility>

namespace gate {
namespace {

std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() || dir.back() == '/' ? dir + name : dir + "/" + name;
}

std::string Parent(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultEnv* env, std::unique_ptr<WritableFile> base)
      : env_(env), base_(std::move(base)) {}

  Status Append(std::string_view data) override {
    std::size_t partial = 0;
    if (const int err = env_->NextFault(FaultOp::kWrite, &partial)) {
      if (partial > 0) {
        (void)base_->Append(data.substr(0, std::min(partial, data.size())));  // the short write
      }
      return ErrnoStatus("write", path(), err);
    }
    return base_->Append(data);
  }
  Status Truncate(std::uint64_t size) override {
    if (const int err = env_->NextFault(FaultOp::kTruncate)) {
      return ErrnoStatus("truncate", path(), err);
    }
    return base_->Truncate(size);
  }
  Status Sync() override {
    if (const int err = env_->NextFault(FaultOp::kSync)) return ErrnoStatus("fsync", path(), err);
    GATE_RETURN_IF_ERROR(base_->Sync());
    auto info = base_->Stat();
    if (info) env_->NoteSynced(path(), info->size);
    return Status::Ok();
  }
  Status Close() override { return base_->Close(); }
  Result<FileInfo> Stat() const override { return base_->Stat(); }
  Status SetOwnerAndMode(uid_t uid, gid_t gid, mode_t perms) override {
    if (const int err = env_->NextFault(FaultOp::kSetOwner)) {
      return ErrnoStatus("chown", path(), err);
    }
    return base_->SetOwnerAndMode(uid, gid, perms);
  }
  const std::string& path() const override { return base_->path(); }
  int fd() const override { return base_->fd(); }

 private:
  FaultEnv* env_;
  std::unique_ptr<WritableFile> base_;
};

class FaultReadableFile final : public ReadableFile {
 public:
  FaultReadableFile(FaultEnv* env, std::unique_ptr<ReadableFile> base)
      : env_(env), base_(std::move(base)) {}

  Result<std::string> ReadAt(std::uint64_t offset, std::size_t n) const override {
    if (const int err = env_->NextFault(FaultOp::kRead))
      return Err(ErrnoStatus("read", path(), err));
    return base_->ReadAt(offset, n);
  }
  Result<FileInfo> Stat() const override { return base_->Stat(); }
  const std::string& path() const override { return base_->path(); }
  int fd() const override { return base_->fd(); }

 private:
  FaultEnv* env_;
  std::unique_ptr<ReadableFile> base_;
};

Result<std::unique_ptr<ReadableFile>> WrapReadable(FaultEnv* env,
                                                   Result<std::unique_ptr<ReadableFile>> file) {
  if (!file) return file;
  return std::unique_ptr<ReadableFile>(std::make_unique<FaultReadableFile>(env, std::move(*file)));
}

class FaultDirectory final : public Directory {
 public:
  FaultDirectory(FaultEnv* env, std::unique_ptr<Directory> base)
      : env_(env), base_(std::move(base)) {}

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& name, WriteMode mode,
                                                        mode_t perms) override {
    const std::string full = Join(path(), name);
    if (const int err = env_->NextFault(FaultOp::kOpen)) {
      return Err(ErrnoStatus("open", full, err));
    }
    const bool existed = base_->Stat(name).has_value();
    auto file = base_->NewWritableFile(name, mode, perms);
    if (!file) return Err(file.error());
    env_->NoteWritten(full, !existed);
    return std::unique_ptr<WritableFile>(
        std::make_unique<FaultWritableFile>(env_, std::move(*file)));
  }
  Result<std::unique_ptr<ReadableFile>> NewReadableFile(const std::string& name) override {
    if (const int err = env_->NextFault(FaultOp::kOpen)) {
      return Err(ErrnoStatus("open", Join(path(), name), err));
    }
    return WrapReadable(env_, base_->NewReadableFile(name));
  }
  Status Rename(const std::string& from, const std::string& to) override {
    if (const int err = env_->NextFault(FaultOp::kRename)) {
      return ErrnoStatus("rename", Join(path(), from) + " to " + to, err);
    }
    GATE_RETURN_IF_ERROR(base_->Rename(from, to));
    env_->NoteRenamed(Join(path(), from), Join(path(), to));
    return Status::Ok();
  }
  Status Remove(const std::string& name) override {
    if (const int err = env_->NextFault(FaultOp::kRemove)) {
      return ErrnoStatus("remove", Join(path(), name), err);
    }
    GATE_RETURN_IF_ERROR(base_->Remove(name));
    env_->NoteRemoved(Join(path(), name));
    return Status::Ok();
  }
  Status Sync() override {
    if (const int err = env_->NextFault(FaultOp::kSync)) return ErrnoStatus("fsync", path(), err);
    GATE_RETURN_IF_ERROR(base_->Sync());
    env_->NoteDirSynced(path());
    return Status::Ok();
  }
  Result<FileInfo> Stat(const std::string& name) const override { return base_->Stat(name); }
  Result<FileInfo> StatSelf() const override { return base_->StatSelf(); }
  Result<std::vector<std::string>> List() const override { return base_->List(); }
  const std::string& path() const override { return base_->path(); }
  int fd() const override { return base_->fd(); }

 private:
  FaultEnv* env_;
  std::unique_ptr<Directory> base_;
};

}  // namespace

FaultEnv::FaultEnv(Env* base) : base_(base) {}
FaultEnv::~FaultEnv() = default;

void FaultEnv::FailNth(FaultOp op, int n, int err, std::size_t partial_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  rules_[op] = Rule{n < 1 ? 1 : n, err, partial_bytes};
  counts_[op] = 0;
}

void FaultEnv::FailAll(FaultOp op, int err) {
  std::lock_guard<std::mutex> lock(mu_);
  rules_[op] = Rule{0, err, 0};
  counts_[op] = 0;
}

void FaultEnv::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.clear();
  counts_.clear();
}

int FaultEnv::Count(FaultOp op) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = counts_.find(op);
  return it == counts_.end() ? 0 : it->second;
}

int FaultEnv::NextFault(FaultOp op, std::size_t* partial_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  const int count = ++counts_[op];
  const auto it = rules_.find(op);
  if (it == rules_.end()) return 0;
  const Rule& rule = it->second;
  if (rule.nth != 0 && rule.nth != count) return 0;
  if (partial_bytes != nullptr) *partial_bytes = rule.partial_bytes;
  return rule.err;
}

void FaultEnv::NoteWritten(const std::string& path, bool created) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = files_.try_emplace(path);
  if (created) it->second = Tracked{0, false};
  if (inserted && !created) {
    // A file that existed before this Env saw it: what it held then counts
    // as synced.
    auto info = base_->Stat(path);
    it->second.synced_size = info ? info->size : 0;
  }
}

void FaultEnv::NoteSynced(const std::string& path, std::uint64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  files_[path].synced_size = size;
}

void FaultEnv::NoteDirSynced(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [path, tracked] : files_) {
    if (Parent(path) == dir) tracked.name_synced = true;
  }
}

void FaultEnv::NoteRenamed(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = files_.find(from);
  if (it == files_.end()) return;
  Tracked moved = it->second;
  moved.name_synced = false;
  files_.erase(it);
  files_[to] = moved;
}

void FaultEnv::NoteRemoved(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  files_.erase(path);
}

void FaultEnv::DropUnsyncedData() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = files_.begin(); it != files_.end();) {
    const auto& [path, tracked] = *it;
    if (!tracked.name_synced && tracked.synced_size == 0) {
      (void)::unlink(path.c_str());  // best effort: the file may be gone already
      it = files_.erase(it);
      continue;
    }
    // Best effort: a test that removed the file itself has nothing to drop.
    [[maybe_unused]] const int rc =
        ::truncate(path.c_str(), static_cast<off_t>(tracked.synced_size));
    ++it;
  }
}

void FaultEnv::SetClock(std::int64_t unix_seconds, std::int64_t monotonic_nanos) {
  std::lock_guard<std::mutex> lock(mu_);
  frozen_seconds_ = unix_seconds;
  frozen_monotonic_nanos_ = monotonic_nanos;
}

void FaultEnv::AdvanceClock(std::int64_t seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!frozen_seconds_) return;
  *frozen_seconds_ += seconds;
  frozen_monotonic_nanos_ += seconds * 1'000'000'000;
}

std::int64_t FaultEnv::NowUnixSeconds() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (frozen_seconds_) return *frozen_seconds_;
  }
  return base_->NowUnixSeconds();
}

std::int64_t FaultEnv::NowUnixMicros() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (frozen_seconds_) return *frozen_seconds_ * 1'000'000;
  }
  return base_->NowUnixMicros();
}

std::int64_t FaultEnv::MonotonicNanos() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (frozen_seconds_) return frozen_monotonic_nanos_;
  }
  return base_->MonotonicNanos();
}

Result<std::unique_ptr<WritableFile>> FaultEnv::NewWritableFile(const std::string& path,
                                                                WriteMode mode, mode_t perms) {
  if (const int err = NextFault(FaultOp::kOpen)) return Err(ErrnoStatus("open", path, err));
  const bool existed = base_->Stat(path).has_value();
  auto file = base_->NewWritableFile(path, mode, perms);
  if (!file) return Err(file.error());
  NoteWritten(path, !existed);
  return std::unique_ptr<WritableFile>(std::make_unique<FaultWritableFile>(this, std::move(*file)));
}

Result<std::unique_ptr<ReadableFile>> FaultEnv::NewReadableFile(const std::string& path) {
  if (const int err = NextFault(FaultOp::kOpen)) return Err(ErrnoStatus("open", path, err));
  return WrapReadable(this, base_->NewReadableFile(path));
}

Status FaultEnv::RenameFile(const std::string& from, const std::string& to) {
  if (const int err = NextFault(FaultOp::kRename)) {
    return ErrnoStatus("rename", from + " to " + to, err);
  }
  GATE_RETURN_IF_ERROR(base_->RenameFile(from, to));
  NoteRenamed(from, to);
  return Status::Ok();
}

Status FaultEnv::RemoveFile(const std::string& path) {
  if (const int err = NextFault(FaultOp::kRemove)) return ErrnoStatus("remove", path, err);
  GATE_RETURN_IF_ERROR(base_->RemoveFile(path));
  NoteRemoved(path);
  return Status::Ok();
}

Status FaultEnv::CreateDir(const std::string& path, mode_t perms) {
  if (const int err = NextFault(FaultOp::kMkdir)) return ErrnoStatus("create", path, err);
  return base_->CreateDir(path, perms);
}

Status FaultEnv::SyncDir(const std::string& path) {
  if (const int err = NextFault(FaultOp::kSync)) return ErrnoStatus("fsync", path, err);
  GATE_RETURN_IF_ERROR(base_->SyncDir(path));
  NoteDirSynced(path);
  return Status::Ok();
}

Result<FileInfo> FaultEnv::Stat(const std::string& path) { return base_->Stat(path); }

int FaultEnv::RawFileFault(RawFileOp op, const std::string& /*path*/) {
  switch (op) {
    case RawFileOp::kWrite:
      return NextFault(FaultOp::kWrite);
    case RawFileOp::kTruncate:
      return NextFault(FaultOp::kTruncate);
    case RawFileOp::kSync:
      return NextFault(FaultOp::kSync);
  }
  return 0;
}

Result<std::unique_ptr<Directory>> FaultEnv::OpenDirectory(const std::string& path) {
  if (const int err = NextFault(FaultOp::kOpen)) {
    return Err(ErrnoStatus("open directory", path, err));
  }
  auto dir = base_->OpenDirectory(path);
  if (!dir) return Err(dir.error());
  return std::unique_ptr<Directory>(std::make_unique<FaultDirectory>(this, std::move(*dir)));
}

}  // namespace gate
