// Live join: the recorder's listening socket and everyone attached to it
// (docs/recording.md, "Live join"). The session's event loop owns the hub:
// it adds the hub's descriptors to its poll set, hands it every byte the
// session prints, and gets peers' keystrokes and join notices back through
// callbacks. Nothing here may block the session: a slow joiner is dropped.
// A new joiner is first streamed the session's history (join_history.h),
// read in chunks as its socket drains, then live output.
#ifndef GATE_RECORDER_JOIN_JOIN_HUB_H_
#define GATE_RECORDER_JOIN_JOIN_HUB_H_

#include <poll.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gate/env.h"
#include "gate/join_protocol.h"
#include "gate/recorder_settings.h"
#include "gate/status.h"

namespace gate::recorder {

// Who is asking, as the kernel saw it at connect (SO_PEERCRED).
struct Peer {
  pid_t pid = 0;
  uid_t uid = 0;
};

// The Gate user allowed to join, or PermissionDenied with the reason to show.
// Any other error also refuses, with a generic reason for the joiner (the
// error's message goes to the log only: it may name files and settings).
using JoinAuthorizer = std::function<Result<std::string>(const Peer& peer)>;

// Called on the event loop's thread from inside HandlePoll, Output and End;
// they must not call back into the hub. Any of them may be empty.
struct JoinCallbacks {
  // Keystrokes of a peer, to write to the session's pty.
  std::function<void(std::string_view bytes)> input;
  // A notice for the session owner's terminal, ready to write as is
  // ("\r\n[gate] bob joined as observer\r\n").
  std::function<void(std::string_view text)> notice;
  // A "j" event's data for the recording.
  std::function<void(std::string_view json)> record;
};

struct SessionSummary {
  std::string session_id;
  std::string user;
  std::string login;
};

// Limits, with the values the recorder uses; tests shorten the timeouts.
struct JoinHubOptions {
  // A client that has not sent its hello by then is dropped.
  std::chrono::milliseconds hello_timeout{5000};
  // Output queued for one joiner beyond this drops the joiner.
  std::size_t queue_limit = 1024 * 1024;
  // Recent output held in memory (output_ring.h): a new joiner's history
  // when there is no spool.
  std::size_t replay_bytes = 256 * 1024;
  // The spool that keeps the history on disk (join_history.h): its
  // directory (empty: none) and how much of it is kept.
  std::string history_dir;
  std::uint64_t history_bytes = kDefaultJoinHistoryBytes;
  // The spool goes through it; nullptr: Env::Default().
  Env* env = nullptr;
  // Connections at once, waiting for their hello or attached; more are closed.
  std::size_t max_clients = 32;
  // End() waits at most this long for joiners to take their last output.
  std::chrono::milliseconds end_flush_timeout{1000};
};

class JoinHub {
 public:
  // Listens on socket_path (created 0666; the directory's owner decides who
  // may create it). Replaces a stale socket of the same name.
  static Result<std::unique_ptr<JoinHub>> Listen(const std::string& socket_path,
                                                 SessionSummary session, JoinAuthorizer authorize,
                                                 JoinCallbacks callbacks);
  static Result<std::unique_ptr<JoinHub>> Listen(const std::string& socket_path,
                                                 SessionSummary session, JoinAuthorizer authorize,
                                                 JoinCallbacks callbacks,
                                                 const JoinHubOptions& options);
  virtual ~JoinHub() = default;

  // Appends the descriptors to poll (the listener, every client, and a
  // timer per client still owing its hello). Nothing after End().
  virtual void AppendPollFds(std::vector<pollfd>& fds) const = 0;
  // Handles what poll reported for the entries the last AppendPollFds added,
  // which start at fds[first]. Output() may run between the two: a client
  // dropped meanwhile is skipped. Accepts, reads hellos, authorizes, attaches,
  // forwards peers' keystrokes and flushes queued output; never blocks.
  virtual void HandlePoll(const std::vector<pollfd>& fds, std::size_t first) = 0;
  // Every byte the session prints: kept in the history and sent to everyone
  // attached who has caught up with it (the others reach it through the
  // history). Cheap when nobody is attached.
  virtual void Output(std::string_view bytes) = 0;
  // The session ended: tells everyone (an "E" frame), waits at most
  // options.end_flush_timeout for them to read it, closes, removes the
  // socket. Records no leave events (the "x" event, written before, ends
  // every join). Later calls do nothing.
  virtual void End(std::string_view exit_json) = 0;
  // Clients attached now (not counting those still owing their hello).
  virtual std::size_t joiners() const = 0;
};

}  // namespace gate::recorder

#endif  // GATE_RECORDER_JOIN_JOIN_HUB_H_
