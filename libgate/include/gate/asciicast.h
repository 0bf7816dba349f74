// Session recordings: asciicast v2 with gate's header fields, gate event
// types and signed checkpoints (docs/recording.md, "Format"). The writer is
// on the recorder's hot path (every byte a session prints goes through
// Writer::Output), so it escapes in place into one growing buffer and only
// touches the file on Flush. The reader and Verify serve gate play, gate-ca's
// ingest and the tests.
#ifndef GATE_ASCIICAST_H_
#define GATE_ASCIICAST_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gate/ed25519.h"
#include "gate/env.h"
#include "gate/status.h"

namespace gate::cast {

struct Header {
  int width = 80;
  int height = 24;
  std::int64_t timestamp = 0;              // unix seconds, session start
  std::map<std::string, std::string> env;  // TERM, SHELL
  std::string title;
  // False for a header without a "gate" object (ParseAnyHeader: a plain
  // asciicast v2 file, e.g. from `asciinema rec`); the fields below are then
  // empty, and nothing in the file is signed.
  bool from_gate = true;
  // The "gate" object.
  std::string session_id;  // UUID
  std::string user;        // Gate user (certificate key id)
  std::string login;       // OS account
  std::string node;        // host UUID
  std::string node_name;
  std::string cluster;
  std::string cert_serial;  // decimal
  std::string mode;         // "interactive", "exec" or "exec-pty"
  std::string command;      // SSH_ORIGINAL_COMMAND, or empty
  std::string key;          // "SHA256:..." fingerprint of the recorder key
};

// The header as one JSON line ending in '\n'.
std::string HeaderLine(const Header& header);
// Strict: version 2, positive width/height, and the gate fields present and
// strings. InvalidArgument naming the field otherwise.
Result<Header> ParseHeader(std::string_view line);
// Any asciicast v2 header (version 2, width and height; timestamp, title and
// env optional, null env values skipped). A header with a "gate" object is
// held to ParseHeader's rules, so a damaged gate header is not mistaken for
// a plain file; without one, from_gate is false. InvalidArgument otherwise.
Result<Header> ParseAnyHeader(std::string_view line);
// Why a plain asciicast v2 file cannot be verified (Verify's error on it).
inline constexpr std::string_view kNotAGateRecording =
    "not a gate recording (its header has no \"gate\" object), so nothing in it is signed";

// Event types (docs/recording.md).
inline constexpr char kOutput = 'o';
inline constexpr char kInput = 'i';
inline constexpr char kResize = 'r';
inline constexpr char kJoin = 'j';
inline constexpr char kExit = 'x';
inline constexpr char kCheckpoint = 'c';

class Writer {
 public:
  // Writes the header to file (which the writer owns from now on; every
  // write goes through its Env, so tests can fault it) and starts the
  // chain. key signs every checkpoint; it must outlive the writer.
  //
  // header.key is filled in with key's fingerprint when empty; a different
  // value is InvalidArgument, as is a header ParseHeader would refuse (so a
  // width or height of 0 must be replaced, e.g. by 80x24, before this call).
  // The header is followed at once by a first checkpoint at t=0 covering
  // it alone, written together, so even a recorder that dies right away
  // leaves a verifiable file. A write error (the Env's status: ResourceExhausted
  // for a full disk, Unavailable for an I/O error, naming the file) leaves the
  // file empty and closed.
  //
  // Not thread-safe: one thread calls every method of a writer.
  static Result<Writer> Create(std::unique_ptr<WritableFile> file, const Header& header,
                               const ssh::Ed25519PrivateKey& key);

  Writer(Writer&&) noexcept;
  Writer& operator=(Writer&&) noexcept;
  ~Writer();

  // Append one event to the in-memory buffer; t is seconds since the start.
  // Output/Input take raw terminal bytes: invalid UTF-8 becomes U+FFFD (one
  // per maximal invalid subsequence, as Python and asciinema decode), a
  // sequence cut at the end of bytes is held until the next call of the same
  // kind (output and input are separate streams). A call whose bytes are all
  // held writes no event. Exit and Close turn a held partial sequence into
  // U+FFFD first, so "x" stays the last event. After an error or Close these
  // calls do nothing.
  void Output(double t, std::string_view bytes);
  void Input(double t, std::string_view bytes);
  void Resize(double t, int cols, int rows);
  void Join(double t, std::string_view json);  // data of a "j" event
  void Exit(double t, std::string_view json);  // data of the "x" event

  // Writes the buffered events and, if there were any, a checkpoint, with one
  // Append. No fsync. A failed write is taken back (AppendAllOrNothing), so
  // the file still ends with a whole checkpoint and verifies, cut short, up
  // to it. An error leaves the writer failed: every later call returns the
  // same error. The hash and signature cost ~0.5 ms per MiB
  // buffered plus ~25 us, so flush on a timer and also whenever
  // buffered_bytes() passes ~1 MiB (bench/README.md).
  Status Flush(double t);
  // Flush, then fsync (a regular file only: a pipe or device has nothing to
  // sync) and close the file. Only a file whose last event before Close is
  // Exit verifies as complete; if that fsync fails, the flush that wrote
  // the Exit event is cut off again, so a recording whose end may not be on
  // disk never claims to be complete. A second Close is FailedPrecondition.
  // Destroying a writer without Close writes nothing more: the file then
  // verifies as cut short.
  Status Close(double t);

  std::size_t buffered_bytes() const;
  std::uint64_t file_bytes() const;  // bytes written to the file so far
  // OK, or the error that failed the writer.
  Status status() const;

 private:
  struct Impl;
  explicit Writer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct Event {
  double time = 0;
  char type = 0;
  std::string data;      // decoded JSON string
  std::size_t line = 0;  // 1-based line number in the file
};

struct Recording {
  Header header;
  std::vector<Event> events;  // checkpoints included
};

// Parses a whole recording. A last line without '\n' (cut by a crash) is
// ignored; any other malformed line is DataLoss naming its line number.
Result<Recording> Parse(std::string_view file);

// Parse one event at a time, for files too large to hold decoded twice
// (gate play). Same rules as Parse. file must outlive the reader.
class Reader {
 public:
  // Which headers Create accepts: only gate's (ParseHeader), or any
  // asciicast v2 header (ParseAnyHeader), for a player.
  enum class Headers { kGateOnly, kAnyAsciicast };
  // Parses the header: DataLoss("line 1: ...") if it is missing or bad.
  static Result<Reader> Create(std::string_view file, Headers headers = Headers::kGateOnly);

  const Header& header() const { return header_; }
  // Fills *event with the next event and returns true, or returns false at
  // the end. DataLoss naming the line for a malformed one.
  Result<bool> Next(Event* event);
  // Bytes of an unterminated last line; meaningful once Next returned false.
  std::size_t trailing_bytes() const { return file_.size() - pos_; }

 private:
  Reader(std::string_view file, Header header, std::size_t pos)
      : file_(file), header_(std::move(header)), pos_(pos) {}
  std::string_view file_;
  Header header_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
};

struct Verification {
  enum class State { kComplete, kCutShort };
  State state = State::kCutShort;
  double verified_until = 0;       // time of the last good checkpoint
  std::size_t verified_bytes = 0;  // file bytes covered by it
};

// Recomputes the checkpoint chain and checks every signature with key.
// DataLoss naming the first line that does not match (or "no checkpoint").
// Every byte of a verified prefix is covered: the chain hashes everything
// but the checkpoints' data, each checkpoint's data is its hash and its
// signature, and what follows the data must be exactly `"]\n`. kComplete
// means the file ends with an "x" event followed by a checkpoint; anything
// else verified is kCutShort (bytes after verified_bytes are not covered).
// A header naming another key than `key` is DataLoss on line 1, and so is a
// plain asciicast v2 header ("not a gate recording": nothing in it is signed).
Result<Verification> Verify(std::string_view file, const ssh::Ed25519PublicKey& key);

}  // namespace gate::cast

#endif  // GATE_ASCIICAST_H_
