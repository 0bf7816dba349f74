#include "ca-server/sessions/recording_files.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "gate/log.h"
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

Result<RecordingFiles> RecordingFiles::Open(const std::string& dir) {
  GATE_RETURN_IF_ERROR(EnsurePrivateDir(dir, 0700));
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return Err(Errno("cannot open " + dir));
  return RecordingFiles(dir, std::move(fd));
}

Result<UniqueFd> RecordingFiles::OpenFile(const std::string& id, int flags) const {
  GATE_RETURN_IF_ERROR(CheckId(id));
  const std::string name = Name(id);
  UniqueFd fd(
      ::openat(dir_fd_.get(), name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600));
  if (!fd.valid()) {
    if (errno == ENOENT) return Err(NotFound("no recording " + name));
    if (errno == ELOOP) return Err(PermissionDenied(dir_ + "/" + name + " is a symlink"));
    return Err(Errno("cannot open " + dir_ + "/" + name));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Err(Errno("cannot stat " + dir_ + "/" + name));
  if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0) {
    return Err(
        PermissionDenied(dir_ + "/" + name + " is not a private regular file of gate-ca's user"));
  }
  return fd;
}

Result<std::uint64_t> RecordingFiles::Size(const std::string& id) const {
  auto fd = OpenFile(id, O_RDONLY);
  if (!fd) {
    if (fd.error().code() == Code::kNotFound) return std::uint64_t{0};
    return Err(fd.error());
  }
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return Err(Errno("cannot stat recording " + id));
  return static_cast<std::uint64_t>(st.st_size);
}

Status RecordingFiles::Append(const std::string& id, std::uint64_t expected_size,
                              std::string_view bytes) {
  auto fd = OpenFile(id, O_WRONLY | O_APPEND | O_CREAT);
  if (!fd) return fd.error();
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return Errno("cannot stat recording " + id);
  if (static_cast<std::uint64_t>(st.st_size) != expected_size) {
    return FailedPrecondition("recording " + id + " holds " + std::to_string(st.st_size) +
                              " bytes, not " + std::to_string(expected_size));
  }
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd->get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      // Half a chunk would leave gate-ca's copy different from the node's;
      // should even the truncate fail, the digest check at completion
      // catches the difference.
      if (::ftruncate(fd->get(), static_cast<off_t>(expected_size)) != 0) {
        log::Error("recording " + id + ": cannot undo a short write: " + std::strerror(errno));
      }
      errno = err;
      return Errno("cannot write recording " + id);
    }
    done += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

Status RecordingFiles::Truncate(const std::string& id) {
  auto fd = OpenFile(id, O_WRONLY);
  if (!fd) return fd.error().code() == Code::kNotFound ? Status::Ok() : fd.error();
  if (::ftruncate(fd->get(), 0) != 0) return Errno("cannot truncate recording " + id);
  return Status::Ok();
}

Status RecordingFiles::Remove(const std::string& id) {
  GATE_RETURN_IF_ERROR(CheckId(id));
  if (::unlinkat(dir_fd_.get(), Name(id).c_str(), 0) != 0 && errno != ENOENT) {
    return Errno("cannot remove recording " + id);
  }
  if (::fsync(dir_fd_.get()) != 0) return Errno("cannot fsync " + dir_);
  return Status::Ok();
}

Status RecordingFiles::Sync(const std::string& id) {
  auto fd = OpenFile(id, O_RDONLY);
  if (!fd) return fd.error();
  if (::fsync(fd->get()) != 0) return Errno("cannot fsync recording " + id);
  if (::fsync(dir_fd_.get()) != 0) return Errno("cannot fsync " + dir_);
  return Status::Ok();
}

Result<MappedRecording> RecordingFiles::Map(const std::string& id) const {
  auto fd = OpenFile(id, O_RDONLY);
  if (!fd) return Err(fd.error());
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return Err(Errno("cannot stat recording " + id));
  MappedRecording mapped;
  if (st.st_size == 0) return mapped;
  void* data =
      ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd->get(), 0);
  if (data == MAP_FAILED) return Err(Errno("cannot map recording " + id));
  mapped.data_ = data;
  mapped.size_ = static_cast<std::size_t>(st.st_size);
  return mapped;
}

Result<std::string> RecordingFiles::Read(const std::string& id, std::uint64_t offset,
                                         std::size_t limit) const {
  auto fd = OpenFile(id, O_RDONLY);
  if (!fd) return Err(fd.error());
  std::string out(limit, '\0');
  std::size_t done = 0;
  while (done < limit) {
    const ssize_t n =
        ::pread(fd->get(), out.data() + done, limit - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Err(Errno("cannot read recording " + id));
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  return out;
}

}  // namespace gate::ca
