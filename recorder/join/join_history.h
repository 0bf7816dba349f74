// The output of a session as its live joiners are shown it
// (docs/recording.md, "Live join"): every byte, addressed by its offset from
// the session's start, so a joiner can be streamed the history from where it
// starts and reach the live output without a gap or a repeat.
//
// The bytes are kept in a spool file that is not in memory: created in the
// recorder's own spool directory (mode 0600, owned by the recorder's user)
// and unlinked at once, so nothing else can open it and it vanishes with the
// recorder. Only the last `cap_bytes` are kept: older blocks are punched out
// of the file (fallocate), so a huge session cannot fill the disk.
//
// The last `ring_bytes` are also held in memory (output_ring.h). If the spool
// cannot be created, written or read (a full disk), the session goes on: the
// history falls back to the memory ring, with a warning in the log. Live
// join is a convenience; the recording is what fails closed.
//
// Not thread-safe: the session's event loop owns it.
#ifndef GATE_RECORDER_JOIN_JOIN_HISTORY_H_
#define GATE_RECORDER_JOIN_JOIN_HISTORY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "gate/env.h"
#include "gate/recorder_settings.h"
#include "gate/status.h"
#include "recorder/join/output_ring.h"

namespace gate::recorder {

struct JoinHistoryOptions {
  // Held in memory; the fallback when there is no spool.
  std::size_t ring_bytes = kDefaultReplayBytes;
  // The spool's directory; empty: no spool, the ring only.
  std::string spool_dir;
  // The spool file's name in spool_dir for the moment between its creation
  // and its unlinking (it must not clash with anything there).
  std::string spool_name;
  // Kept on disk at most (plus one punch step); 0: no spool.
  std::uint64_t cap_bytes = kDefaultJoinHistoryBytes;
  // Files go through it; nullptr: Env::Default().
  Env* env = nullptr;
};

// Where a new joiner's history starts.
struct HistoryStart {
  std::uint64_t offset = 0;
  // The bytes from offset up to and including the first '\n' are not to be
  // shown: the history then starts at a line start (never inside an escape
  // sequence or a UTF-8 character).
  bool skip_to_line = false;
  // Non-empty when the history is not complete: the one line that tells
  // the joiner ("history before the last 64 MiB is not shown").
  std::string notice;
};

class JoinHistory {
 public:
  // Creates the spool if options ask for one; if that fails, logs a warning
  // and keeps the ring only. Never fails.
  explicit JoinHistory(const JoinHistoryOptions& options);
  ~JoinHistory();
  JoinHistory(const JoinHistory&) = delete;
  JoinHistory& operator=(const JoinHistory&) = delete;

  // Every byte the session prints, in order. A spool failure (logged)
  // drops the spool; the ring keeps going.
  void Append(std::string_view bytes);

  // Bytes appended since the start.
  std::uint64_t end() const { return ring_.end(); }

  // Where a joiner arriving now starts: 0 while everything since the start
  // is kept; otherwise the first line start within the last cap_bytes (or,
  // without a spool, the ring's replay), with a notice.
  HistoryStart Start() const;

  // Up to max_bytes (> 0) from offset, which is below end(): from the ring
  // if it still holds them, else from the spool. OutOfRange if they are no
  // longer kept (cut by the cap, or the spool failed): the joiner then
  // starts over from Start(). A failed read drops the spool (logged).
  Result<std::string> Read(std::uint64_t offset, std::size_t max_bytes);

  // True while the spool is in use.
  bool spooled() const;

 private:
  struct Spool;
  static Result<std::unique_ptr<Spool>> OpenSpool(Env& env, const std::string& dir_path,
                                                  const std::string& name);
  void DropSpool(const std::string& why);

  JoinHistoryOptions options_;
  OutputRing ring_;
  std::unique_ptr<Spool> spool_;
};

// "64 MiB", "256 KiB", "1000 bytes": for the notices.
std::string DescribeBytes(std::uint64_t bytes);

}  // namespace gate::recorder

#endif  // GATE_RECORDER_JOIN_JOIN_HISTORY_H_
