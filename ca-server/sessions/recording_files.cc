#include "ca-server/sessions/recording_files.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "gate/secure_file.h"
#include "gate/uuid.h"

namespace gate::ca {
namespace {

Status CheckId(const std::string& id) {
  if (!IsCanonicalUuid(id)) return InvalidArgument("session id must be a lower-case UUID");
  return Status::Ok();
}

Status Errno(std::string what) {
  return Unavailable(std::move(what) + ": " + std::strerror(errno));
}

}  // namespace

MappedRecording::MappedRecording(MappedRecording&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedRecording& MappedRecording::operator=(MappedRecording&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(data_, size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedRecording::~MappedRecording() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

Result<RecordingFiles> RecordingFiles::Open(const std::string& dir, Env* env) {
  GATE_RETURN_IF_ERROR(EnsurePrivateDir(dir, 0700));
  auto directory = env->OpenDirectory(dir);
  if (!directory) return Err(directory.error());
  return RecordingFiles(dir, std::move(*directory));
}

Status RecordingFiles::CheckOpened(const std::string& id, const Result<FileInfo>& info) const {
  if (!info) return info.error();
  if (info->type != FileInfo::Type::kRegular || info->uid != ::geteuid() ||
      (info->mode & 077) != 0) {
    return PermissionDenied(dir_ + "/" + Name(id) +
                            " is not a private regular file of gate-ca's user");
  }
  return Status::Ok();
}

Result<std::unique_ptr<ReadableFile>> RecordingFiles::OpenForRead(const std::string& id) const {
  GATE_RETURN_IF_ERROR(CheckId(id));
  auto file = directory_->NewReadableFile(Name(id));
  if (!file) {
    if (file.error().code() == Code::kNotFound) return Err(NotFound("no recording " + Name(id)));
    return Err(file.error());
  }
  GATE_RETURN_IF_ERROR(CheckOpened(id, (*file)->Stat()));
  return file;
}

Result<std::unique_ptr<WritableFile>> RecordingFiles::OpenForWrite(const std::string& id,
                                                                   WriteMode mode) const {
  GATE_RETURN_IF_ERROR(CheckId(id));
  auto file = directory_->NewWritableFile(Name(id), mode, 0600);
  if (!file) {
    if (file.error().code() == Code::kNotFound) return Err(NotFound("no recording " + Name(id)));
    return Err(file.error());
  }
  GATE_RETURN_IF_ERROR(CheckOpened(id, (*file)->Stat()));
  return file;
}

Result<std::uint64_t> RecordingFiles::Size(const std::string& id) const {
  auto file = OpenForRead(id);
  if (!file) {
    if (file.error().code() == Code::kNotFound) return std::uint64_t{0};
    return Err(file.error());
  }
  auto info = (*file)->Stat();
  if (!info) return Err(info.error());
  return info->size;
}

Status RecordingFiles::Append(const std::string& id, std::uint64_t expected_size,
                              std::string_view bytes) {
  auto file = OpenForWrite(id, WriteMode::kCreateOrAppend);
  if (!file) return file.error();
  auto info = (*file)->Stat();
  if (!info) return info.error();
  if (info->size != expected_size) {
    return FailedPrecondition("recording " + id + " holds " + std::to_string(info->size) +
                              " bytes, not " + std::to_string(expected_size));
  }
  // Half a chunk would leave gate-ca's copy different from the node's;
  // should even the undo fail, the digest check at completion catches the
  // difference.
  return AppendAllOrNothing(**file, bytes);
}

Status RecordingFiles::Truncate(const std::string& id) {
  auto file = OpenForWrite(id, WriteMode::kAppendExisting);
  if (!file) return file.error().code() == Code::kNotFound ? Status::Ok() : file.error();
  return (*file)->Truncate(0);
}

Status RecordingFiles::Remove(const std::string& id) {
  GATE_RETURN_IF_ERROR(CheckId(id));
  const Status removed = directory_->Remove(Name(id));
  if (!removed.ok() && removed.code() != Code::kNotFound) return removed;
  return directory_->Sync();
}

Status RecordingFiles::Sync(const std::string& id) {
  auto file = OpenForWrite(id, WriteMode::kAppendExisting);
  if (!file) return file.error();
  GATE_RETURN_IF_ERROR((*file)->Sync());
  return directory_->Sync();
}

Result<MappedRecording> RecordingFiles::Map(const std::string& id) const {
  auto file = OpenForRead(id);
  if (!file) return Err(file.error());
  auto info = (*file)->Stat();
  if (!info) return Err(info.error());
  MappedRecording mapped;
  if (info->size == 0) return mapped;
  void* data = ::mmap(nullptr, static_cast<std::size_t>(info->size), PROT_READ, MAP_PRIVATE,
                      (*file)->fd(), 0);
  if (data == MAP_FAILED) return Err(Errno("cannot map recording " + id));
  mapped.data_ = data;
  mapped.size_ = static_cast<std::size_t>(info->size);
  return mapped;
}

Result<std::string> RecordingFiles::Read(const std::string& id, std::uint64_t offset,
                                         std::size_t limit) const {
  auto file = OpenForRead(id);
  if (!file) return Err(file.error());
  return (*file)->ReadAt(offset, limit);
}

}  // namespace gate::ca
