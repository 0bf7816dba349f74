// FaultEnv: an Env for tests that fails chosen operations the way a full or
// dying disk does, and forgets what a crash would forget.
//
// It lives in its own library, gate::fault_env, which only tests link: no
// production binary can reach it by accident, and the failure switches below
// can never be left on in a shipped program. Production code depends on
// gate/env.h alone.
//
// Every operation goes to a base Env (Env::Default() unless given), except
// those a rule says to fail. Operations are counted per kind from the moment a
// rule is set, 1-based: FailNth(FaultOp::kSync, 2, EIO) fails the second fsync
// after the call, any file or directory alike.
//
// "A failed fsync" is simulated as Linux reports it: the fsync returns EIO
// and the data written since the last good fsync is not on disk. After the
// failure, DropUnsyncedData() truncates every file written through this Env
// back to its last synced size, which is what a crash after such an fsync
// leaves behind; tests then check that nothing acknowledged was lost.
//
// The clock is the base Env's until SetClock; from then on it only moves when
// the test moves it (AdvanceClock), so no test depends on timing.
//
// Thread safety: all methods may be called from any thread.
#ifndef GATE_FAULT_ENV_H_
#define GATE_FAULT_ENV_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gate/env.h"

namespace gate {

enum class FaultOp {
  kOpen,      // NewWritableFile (any mode), NewReadableFile, OpenDirectory
  kWrite,     // WritableFile::Append
  kSync,      // WritableFile::Sync, Directory::Sync, Env::SyncDir
  kRename,    // Env::RenameFile, Directory::Rename
  kRemove,    // Env::RemoveFile, Directory::Remove
  kMkdir,     // Env::CreateDir
  kTruncate,  // WritableFile::Truncate
  kRead,      // ReadableFile::ReadAt (not reads through its fd(), e.g. mmap)
  kSetOwner,  // WritableFile::SetOwnerAndMode
};

class FaultEnv final : public Env {
 public:
  explicit FaultEnv(Env* base = Env::Default());
  ~FaultEnv() override;

  // The nth operation of kind op from now (1-based) fails with errno err
  // (ENOSPC, EIO, EACCES...). For kWrite, partial_bytes of the data are
  // written first, as a short write on a filling disk does. A failed kRead
  // returns no data, as a read(2) that hits a bad sector does.
  void FailNth(FaultOp op, int n, int err, std::size_t partial_bytes = 0);
  // Every operation of kind op from now on fails with err.
  void FailAll(FaultOp op, int err);
  // Removes every rule and resets the counters; data and clock are kept.
  void ClearFaults();
  // Operations of kind op seen since the last rule for it was set.
  int Count(FaultOp op) const;

  // Truncates every file written through this Env to the size it had at its
  // last successful Sync (0 if it never had one), and removes files created
  // since their directory's last successful sync: the state after a crash.
  void DropUnsyncedData();

  // Freezes the clocks at these values.
  void SetClock(std::int64_t unix_seconds, std::int64_t monotonic_nanos = 0);
  // Moves a frozen clock forward (both wall and monotonic).
  void AdvanceClock(std::int64_t seconds);

  std::int64_t NowUnixSeconds() override;
  std::int64_t NowUnixMicros() override;
  std::int64_t MonotonicNanos() override;
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path, WriteMode mode,
                                                        mode_t perms = 0600) override;
  Result<std::unique_ptr<ReadableFile>> NewReadableFile(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status RemoveFile(const std::string& path) override;
  Status CreateDir(const std::string& path, mode_t perms) override;
  Status SyncDir(const std::string& path) override;
  Result<FileInfo> Stat(const std::string& path) override;
  Result<std::unique_ptr<Directory>> OpenDirectory(const std::string& path) override;
  int RawFileFault(RawFileOp op, const std::string& path) override;

  // Internal to the wrappers in fault_env.cc: the errno op must fail with,
  // or 0; partial_bytes receives the short-write length for kWrite.
  int NextFault(FaultOp op, std::size_t* partial_bytes = nullptr);
  void NoteWritten(const std::string& path, bool created);
  void NoteSynced(const std::string& path, std::uint64_t size);
  void NoteDirSynced(const std::string& dir);
  void NoteRenamed(const std::string& from, const std::string& to);
  void NoteRemoved(const std::string& path);

 private:
  struct Rule {
    int nth = 0;  // 0: every operation
    int err = 0;
    std::size_t partial_bytes = 0;
  };
  struct Tracked {
    std::uint64_t synced_size = 0;
    bool name_synced = true;  // false: created since its directory's last sync
  };

  Env* base_;
  mutable std::mutex mu_;
  std::map<FaultOp, Rule> rules_;
  std::map<FaultOp, int> counts_;
  std::map<std::string, Tracked> files_;
  std::optional<std::int64_t> frozen_seconds_;
  std::int64_t frozen_monotonic_nanos_ = 0;
};

}  // namespace gate

#endif  // GATE_FAULT_ENV_H_
