// The session's event loop: one thread, one poll(2) over the outer
// terminal, the pty master (or the child's output pipes), a signalfd, a
// timerfd for flushing and the live-join hub's descriptors.
//
// Every output chunk is given to the recording sink and flushed to the
// recording first; only once that write succeeded is it passed on to the
// outer terminal and the hub (sudo's I/O logging does the same), so a full
// spool shows the user nothing the recording lacks. Recorded input reaches
// the program on the same terms. Reads are 64 KiB into one buffer that is
// written straight from; only what a short or EAGAIN write leaves over is
// copied, and the source is not read again until that is written: the
// shell is slowed to the speed of the client, never a byte is lost.
// Other events (resizes, joins) are flushed flush_interval after the first
// one buffered since the last flush (a one-shot timer, so an idle session
// costs nothing).
//
// SIGUSR1 asks the loop to re-check the session (LoopOptions::recheck):
// gate-node sends it after a sync that brought a lock or a revocation
// covering the session. An ending is recorded (its notice as output, and in
// the "x" event as "ended_by" and "reason"), shown to the user, and the
// session is hung up as on SIGHUP.
//
// The loop ends once the child has been reaped and its output drained:
// drained means the pty (or pipes) reported EOF, or nothing arrived for
// drain_grace after the child exited (a background job still holds the
// pty: closing the master then hangs it up).
#ifndef GATE_RECORDER_SESSION_EVENT_LOOP_H_
#define GATE_RECORDER_SESSION_EVENT_LOOP_H_

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gate/status.h"
#include "gate/unique_fd.h"
#include "recorder/join/join_hub.h"
#include "recorder/session/policy_recheck.h"
#include "recorder/session/recording_sink.h"

namespace gate::recorder {

// Blocks the signals the loop handles (SIGCHLD, SIGWINCH, SIGHUP, SIGTERM,
// SIGINT, SIGQUIT, SIGUSR1) and returns a signalfd for them; ignores SIGPIPE (a
// closed peer is an EPIPE to handle) and the job-control stops (the
// recorder is never suspended by its terminal). Call before forking the
// child, so no SIGCHLD is missed; the child resets all of this.
Result<UniqueFd> BlockSessionSignals();

struct LoopFds {
  // A pty session: the master (the loop sets it non-blocking and owns it),
  // what to copy into it (the outer stdin, -1 for none) and where its
  // output goes (the outer stdout).
  UniqueFd master;
  int outer_in = -1;
  int outer_out = -1;
  // The outer terminal the pty's size follows on SIGWINCH, -1 for none.
  int winsize_from = -1;
  // A session without a terminal: the write end of the child's stdin pipe,
  // fed from outer_in (its EOF is passed on), and the read ends of the
  // child's stdout and stderr pipes, copied to outer_out and outer_err.
  UniqueFd child_stdin;
  UniqueFd child_stdout;
  UniqueFd child_stderr;
  int outer_err = -1;
};

struct LoopOptions {
  pid_t child = -1;
  bool record_input = false;  // "i" events, when the pty echoes
  std::chrono::milliseconds flush_interval{100};
  std::chrono::milliseconds drain_grace{200};
  std::chrono::steady_clock::time_point start;  // t = 0 of the recording
  // Sessions without a terminal: record what the child reads ("i") and
  // what it prints on stdout and stderr ("o"). Off for file transfers,
  // which are audited by their byte counts.
  bool record_exec_input = false;
  bool record_exec_output = false;
  // Sessions without a terminal: the "x" event also carries the bytes that
  // went in ("bytes_in") and came out ("bytes_out", stdout and stderr),
  // after exit_note (JSON members, e.g. "\"transfer\":\"sftp\"", or empty).
  bool count_bytes = false;
  std::string exit_note;
  // On SIGUSR1: whether the session must end now (policy_recheck.h). Empty:
  // SIGUSR1 is ignored.
  std::function<std::optional<PolicyEnding>()> recheck;
};

struct SessionEnd {
  int wait_status = 0;                   // as waitpid() reported it
  int exit_code = 1;                     // ExitCodeOf(wait_status)
  std::string exit_json;                 // the "x" event's data
  bool hung_up = false;                  // the outer side went away, or SIGHUP/SIGTERM
  std::optional<PolicyEnding> ended_by;  // a lock or revocation ended it
  std::uint64_t bytes_in = 0;            // read from outer_in (counted without a terminal)
  std::uint64_t bytes_out = 0;           // read from the child's stdout and stderr
  Status recording;                      // the first recording error; OK if none
};

class EventLoop {
 public:
  // signal_fd from BlockSessionSignals. sink must outlive the loop.
  static Result<std::unique_ptr<EventLoop>> Create(LoopFds fds, LoopOptions options,
                                                   UniqueFd signal_fd, RecordingSink& sink);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // What JoinHub::Listen needs to feed the session: a peer's keystrokes go
  // into the pty, notices to the owner's terminal, "j" events to the
  // recording. They capture this loop, which must outlive the hub.
  JoinCallbacks HubCallbacks();
  // From now on the hub's descriptors are polled and it sees every output
  // chunk; at the end it gets End(). nullptr: no live join.
  void AttachHub(std::unique_ptr<JoinHub> hub);

  // Runs until the session is over, then records the "x" event, ends the
  // hub and closes the sink (flush + fsync). A recording error during the
  // session ends it (fail closed: the pty is hung up).
  SessionEnd Run();

 private:
  struct Pipe;
  EventLoop(LoopFds fds, LoopOptions options, UniqueFd signal_fd, UniqueFd timer_fd,
            RecordingSink& sink);
  double Now() const;
  void MarkRecorded();
  void OnSignal();
  void Recheck(std::uint32_t sender_uid);
  void OnTimer();
  void OnReadable(Pipe& p);
  void Relay(Pipe& p, std::string_view data);
  void OnWritable(Pipe& p);
  void WriteFailed(Pipe& p);
  void PassEof(Pipe& p);
  void CloseMaster();
  void CloseReaders();
  void Hangup();
  void RecordingFailed(const Status& s);
  void Resize();
  bool Drained() const;

  LoopFds fds_;
  LoopOptions options_;
  UniqueFd signal_fd_;
  UniqueFd timer_fd_;
  RecordingSink& sink_;
  std::unique_ptr<JoinHub> hub_;
  std::vector<Pipe> pipes_;
  std::vector<pollfd> pollfds_;
  std::unique_ptr<char[]> buf_;
  bool timer_armed_ = false;
  bool child_done_ = false;
  int wait_status_ = 0;
  bool hung_up_ = false;
  std::optional<PolicyEnding> ended_by_;
  Status recording_;
  winsize winsize_{};
};

}  // namespace gate::recorder

#endif  // GATE_RECORDER_SESSION_EVENT_LOOP_H_
