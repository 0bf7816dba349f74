// The recordings gate-ca holds, one file per session: <dir>/<id>.cast, the
// directory 0700 and each file 0600, owned by gate-ca's user.
//
// Chunks are appended (O_APPEND) without an fsync each; Sync() makes a
// recording durable, and gate-ca calls it before it acknowledges a complete
// upload, which is the moment the node may delete its copy. A crash before
// that can lose the tail of a live recording; the file's size is what
// gate-ca answers the node with, so the node simply re-sends the lost bytes.
//
// All file access goes through an Env (gate/env.h), so tests drive a full
// disk, an I/O error or a failed fsync through a FaultEnv and check that no
// half chunk stays and nothing unsynced is acknowledged.
//
// Every id must be a canonical UUID (gate/uuid.h): it becomes a file name.
// Thread safety: methods may run concurrently for different ids; callers
// serialize the operations on one id.
#ifndef GATE_CA_SESSIONS_RECORDING_FILES_H_
#define GATE_CA_SESSIONS_RECORDING_FILES_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "gate/env.h"
#include "gate/status.h"

namespace gate::ca {

// A read-only mapping of one recording, valid while the object lives.
class MappedRecording {
 public:
  MappedRecording() = default;
  MappedRecording(MappedRecording&& other) noexcept;
  MappedRecording& operator=(MappedRecording&& other) noexcept;
  MappedRecording(const MappedRecording&) = delete;
  MappedRecording& operator=(const MappedRecording&) = delete;
  ~MappedRecording();

  std::string_view view() const { return {static_cast<const char*>(data_), size_}; }

 private:
  friend class RecordingFiles;
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

class RecordingFiles {
 public:
  // Creates dir (mode 0700) if it is missing, checks it (EnsurePrivateDir)
  // and holds it open through env, so a directory swapped in later is never
  // written. env must outlive the object.
  static Result<RecordingFiles> Open(const std::string& dir, Env* env = Env::Default());

  const std::string& dir() const { return dir_; }

  // Bytes held for id; 0 when there is no file.
  Result<std::uint64_t> Size(const std::string& id) const;

  // Appends bytes, which must land at expected_size: FailedPrecondition if
  // the file's size is not that. Creates the file (0600) when missing. A
  // failed or short write is undone (truncated back), so on error the file
  // is as it was (ResourceExhausted for a full disk, Unavailable for an I/O
  // error, naming the recording).
  Status Append(const std::string& id, std::uint64_t expected_size, std::string_view bytes);

  // Empties id's file (the node re-sends it from offset 0). OK if missing.
  Status Truncate(const std::string& id);

  // Deletes id's file and fsyncs the directory (retention). OK if missing,
  // so a removal that was interrupted can simply run again.
  Status Remove(const std::string& id);

  // fsync of the file and of the directory (which holds its name). An error
  // means the bytes may not survive a crash: the caller must not acknowledge
  // them.
  Status Sync(const std::string& id);

  // The whole file, mapped read-only. NotFound if there is none; an empty
  // file maps to an empty view.
  Result<MappedRecording> Map(const std::string& id) const;

  // At most limit bytes from offset (fewer at the end; none past it).
  Result<std::string> Read(const std::string& id, std::uint64_t offset, std::size_t limit) const;

 private:
  RecordingFiles(std::string dir, std::unique_ptr<Directory> directory)
      : dir_(std::move(dir)), directory_(std::move(directory)) {}
  // Checks that an opened file of id is a regular file owned by this euid
  // and private; PermissionDenied otherwise.
  Status CheckOpened(const std::string& id, const Result<FileInfo>& info) const;
  Result<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& id) const;
  Result<std::unique_ptr<WritableFile>> OpenForWrite(const std::string& id, WriteMode mode) const;
  std::string Name(const std::string& id) const { return id + ".cast"; }

  std::string dir_;
  std::unique_ptr<Directory> directory_;
};

}  // namespace gate::ca

#endif  // GATE_CA_SESSIONS_RECORDING_FILES_H_
