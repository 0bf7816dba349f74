// Writer: events are escaped straight into one buffer; Flush hashes,
// signs and appends it to the file in one Append (all or nothing).
#include <cstring>
#include <optional>
#include <string>

#include "buffer.h"
#include "chain.h"
#include "gate/asciicast.h"
#include "gate/log.h"
#include "json_string.h"

namespace gate::cast {
namespace {

// "[" + time + ", \"o\", \"" and "\"]\n", with room to spare.
constexpr std::size_t kEventOverhead = 64;

// Keep a burst's buffer for the next burst, but not a huge one for a
// session that has gone quiet.
constexpr std::size_t kKeepCapacity = 8 << 20;

}  // namespace

struct Writer::Impl {
  std::unique_ptr<WritableFile> file;
  const ssh::Ed25519PrivateKey* key = nullptr;
  internal::Buffer buffer;
  std::string chain;  // h(k-1), 32 raw bytes
  std::uint64_t file_bytes = 0;
  Status status;
  bool closed = false;
  // The "x" event is in the buffer; then where the file stood before the
  // flush that wrote it, which Close cuts back to if the fsync fails.
  bool exit_buffered = false;
  std::optional<std::uint64_t> exit_flush_start;
  // Unfinished UTF-8 sequences held between calls, per stream.
  std::string output_carry;
  std::string input_carry;

  bool Active() const { return status.ok() && !closed; }

  // Starts "[t, \"x\", \"" in the buffer, with room for `body` more bytes
  // and the tail; returns where the body goes.
  char* Begin(double t, char type, std::size_t body) {
    char* d = buffer.Reserve(body + kEventOverhead);
    char* start = d;
    *d++ = '[';
    d += internal::FormatTime(t, d);
    std::memcpy(d, ", \"", 3);
    d += 3;
    *d++ = type;
    std::memcpy(d, "\", \"", 4);
    d += 4;
    buffer.Commit(static_cast<std::size_t>(d - start));
    return d;
  }

  void End(char* body, std::size_t body_len) {
    std::memcpy(body + body_len, "\"]\n", 3);
    buffer.Commit(body_len + 3);
  }

  // An event whose data is s as text; an unfinished sequence at the end of
  // s is replaced, not held (Join, Exit: JSON the recorder composed).
  void Text(double t, char type, std::string_view s) {
    if (!Active()) return;
    char* body = Begin(t, type, internal::kMaxEscapedPerByte * s.size() + internal::kEscapeSlack);
    std::size_t consumed = 0;
    End(body, internal::EscapeInto(s, /*final=*/true, body, &consumed));
  }

  void Terminal(double t, char type, std::string& carry, std::string_view bytes) {
    if (!Active()) return;
    // Worst case: the carried bytes complete into 4 bytes or become U+FFFD.
    const std::size_t room =
        internal::kMaxEscapedPerByte * bytes.size() + internal::kEscapeSlack + 4;
    const std::size_t mark = buffer.size();
    char* body = Begin(t, type, room);
    std::size_t len = 0;
    if (!carry.empty()) {
      // Complete the held sequence with at most 3 new bytes; whatever of
      // those the sequence did not need is escaped below with the rest.
      char joined[8];
      const std::size_t take = std::min<std::size_t>(bytes.size(), 4 - carry.size());
      std::memcpy(joined, carry.data(), carry.size());
      std::memcpy(joined + carry.size(), bytes.data(), take);
      const auto step =
          internal::DecodeUtf8Step(reinterpret_cast<unsigned char*>(joined), carry.size() + take);
      if (step.length == 0) {
        // Still unfinished: every new byte belongs to the sequence.
        carry.append(bytes);
        bytes = {};
      } else {
        if (step.valid) {
          std::memcpy(body, joined, step.length);
          len = step.length;
        } else {
          std::memcpy(body, internal::kReplacement.data(), internal::kReplacement.size());
          len = internal::kReplacement.size();
        }
        bytes.remove_prefix(step.length - carry.size());
        carry.clear();
      }
    }
    std::size_t consumed = 0;
    len += internal::EscapeInto(bytes, /*final=*/false, body + len, &consumed);
    carry.append(bytes.substr(consumed));
    if (len == 0) {
      // Nothing to show yet: drop the event's opening again.
      buffer.Truncate(mark);
      return;
    }
    End(body, len);
  }

  // A held sequence that will never be finished becomes U+FFFD.
  void DropCarry(double t, char type, std::string& carry) {
    if (carry.empty()) return;
    carry.clear();
    Text(t, type, internal::kReplacement);
  }

  Status Flush(double t) {
    if (!status.ok()) return status;
    if (closed) return FailedPrecondition("the recording is already closed");
    if (buffer.size() == 0) return Status::Ok();
    return Checkpoint(t);
  }

  // Appends the checkpoint over the buffer to it and writes it all. The
  // first `covered` bytes of the buffer are already in the chain (the
  // header line, which starts it) and are written but not hashed again.
  Status Checkpoint(double t, std::size_t covered = 0) {
    Begin(t, kCheckpoint, 0);
    const std::string hash = internal::NextHash(chain, buffer.view().substr(covered));
    auto signature = key->Sign(hash);
    if (!signature) {
      status = signature.error().WithContext("cannot sign a checkpoint");
      return status;
    }
    buffer.Append(internal::CheckpointData(hash, *signature));
    buffer.Append("\"]\n");
    // All or nothing: a failed write is cut back, so the file always ends
    // with a whole checkpoint and verifies (as cut short) up to it.
    status = AppendAllOrNothing(*file, buffer.view());
    if (!status.ok()) return status;
    if (exit_buffered) {
      exit_flush_start = file_bytes;
      exit_buffered = false;
    }
    file_bytes += buffer.size();
    chain = hash;
    buffer.Clear();
    if (buffer.capacity() > kKeepCapacity) buffer.Release();
    return Status::Ok();
  }
};

Result<Writer> Writer::Create(std::unique_ptr<WritableFile> file, const Header& header,
                              const ssh::Ed25519PrivateKey& key) {
  if (!file) return Err(InvalidArgument("no file to write the recording to"));
  Header h = header;
  const std::string fingerprint = key.public_key().Fingerprint();
  if (h.key.empty()) h.key = fingerprint;
  if (h.key != fingerprint) {
    return Err(InvalidArgument("recording header names key " + h.key +
                               " but the writer signs with " + fingerprint));
  }
  const std::string line = HeaderLine(h);
  // Never start a file that our own reader would refuse.
  if (auto parsed = ParseHeader(line); !parsed) return Err(parsed.error());

  auto impl = std::make_unique<Impl>();
  impl->file = std::move(file);
  impl->key = &key;
  impl->chain = internal::InitialHash(line);
  // The header and the first checkpoint go out as one Append: a file that
  // holds anything holds both.
  impl->buffer.Append(line);
  if (!impl->Checkpoint(0, line.size()).ok()) {
    (void)impl->file->Close();
    return Err(impl->status);
  }
  return Writer(std::move(impl));
}

Writer::Writer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Writer::Writer(Writer&&) noexcept = default;
Writer& Writer::operator=(Writer&&) noexcept = default;
Writer::~Writer() = default;

void Writer::Output(double t, std::string_view bytes) {
  impl_->Terminal(t, kOutput, impl_->output_carry, bytes);
}

void Writer::Input(double t, std::string_view bytes) {
  impl_->Terminal(t, kInput, impl_->input_carry, bytes);
}

void Writer::Resize(double t, int cols, int rows) {
  impl_->Text(t, kResize, std::to_string(cols) + "x" + std::to_string(rows));
}

void Writer::Join(double t, std::string_view json) { impl_->Text(t, kJoin, json); }

void Writer::Exit(double t, std::string_view json) {
  impl_->DropCarry(t, kOutput, impl_->output_carry);
  impl_->DropCarry(t, kInput, impl_->input_carry);
  if (!impl_->Active()) return;
  impl_->Text(t, kExit, json);
  impl_->exit_buffered = true;
}

Status Writer::Flush(double t) { return impl_->Flush(t); }

Status Writer::Close(double t) {
  Impl& w = *impl_;
  if (w.closed && w.status.ok()) return FailedPrecondition("the recording is already closed");
  w.DropCarry(t, kOutput, w.output_carry);
  w.DropCarry(t, kInput, w.input_carry);
  Status s = w.Flush(t);
  // A pipe or device (benchmarks, tests) has nothing to sync.
  const auto info = w.file->Stat();
  const bool regular = info && info->type == FileInfo::Type::kRegular;
  if (s.ok() && regular) {
    s = w.file->Sync();
    if (!s.ok() && w.exit_flush_start) {
      // The end was written but may not be on disk: a file that ends with
      // its "x" event would be shipped and verified as complete. Cut the
      // end off, so the recording is only ever "cut short" and says so.
      const Status cut = w.file->Truncate(*w.exit_flush_start);
      if (cut.ok()) {
        w.file_bytes = *w.exit_flush_start;
      } else {
        log::Error("cannot take back the end of the recording after a failed fsync: " +
                   cut.message());
      }
    }
  }
  const Status closed = w.file->Close();
  if (s.ok()) s = closed;
  w.closed = true;
  w.buffer.Release();
  if (!s.ok()) w.status = s;
  return s;
}

std::size_t Writer::buffered_bytes() const { return impl_->buffer.size(); }
std::uint64_t Writer::file_bytes() const { return impl_->file_bytes; }
Status Writer::status() const { return impl_->status; }

}  // namespace gate::cast
