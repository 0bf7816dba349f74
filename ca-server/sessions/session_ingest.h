// Receiving recordings from nodes (docs/recording.md, "Central collection"):
// chunks appended at gate-ca's current size, then a completion that checks
// size and digest, verifies the checkpoints with the node's recorder key,
// indexes the session and audits it. The HTTP side is api/session_api.cc;
// this class holds the decisions and knows nothing about HTTP.
//
// A request that is refused changes nothing: no bytes, no index row, no
// audit entry other than the refusal itself.
//
// Thread safety: all methods may be called concurrently; requests for one
// session are serialized.
#ifndef GATE_CA_SESSIONS_SESSION_INGEST_H_
#define GATE_CA_SESSIONS_SESSION_INGEST_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "ca-server/audit/audit.h"
#include "ca-server/sessions/recording_files.h"
#include "ca-server/sessions/recording_summary.h"
#include "ca-server/store/store.h"
#include "gate/status.h"

namespace gate::ca {

struct SessionLimits {
  std::size_t max_chunk_bytes = 1 << 20;          // one PUT body
  std::uint64_t max_session_bytes = 4ULL << 30;   // one recording
  std::int64_t max_live_sessions_per_node = 256;  // uploads not yet completed
};

// The answer to a chunk. conflict: the offset was not gate-ca's size (or,
// for a completed session, more bytes were offered). storage_full: gate-ca's
// disk had no room for the chunk (ENOSPC/EDQUOT); nothing of it was kept and
// the node must keep its copy and send it again later. size is gate-ca's size
// in every case, where the node resumes.
struct ChunkResult {
  bool conflict = false;
  std::uint64_t size = 0;
  bool storage_full = false;
};

// The answer to a completion. conflict: size or digest did not match
// gate-ca's copy; size says where the node resumes (0 after a digest
// mismatch: gate-ca emptied its copy). Otherwise the session is complete
// and the node may delete its file.
struct CompleteResult {
  bool conflict = false;
  std::uint64_t size = 0;
  std::string sha256;  // lower-case hex of gate-ca's copy (when not a conflict)
  bool verified = false;
  std::string verify_detail;
};

class SessionIngest {
 public:
  // All references must outlive the object. now: unix seconds.
  SessionIngest(Store& store, AuditLog& audit, RecordingFiles& files, SessionLimits limits,
                std::function<std::int64_t()> now);

  // PUT /v1/nodes/sessions/{id}?offset=N from node (authenticated) at source.
  // An empty body changes nothing and reports gate-ca's size (how the
  // uploader learns where to resume). The first bytes of a session must
  // hold its whole header line: a valid asciicast header (cast::ParseHeader)
  // whose session_id is id and whose node is the node's host UUID.
  // Errors: InvalidArgument (bad id, oversized chunk, bad header, header for
  // another session), PermissionDenied (the session or header belongs to
  // another node), ResourceExhausted (per-session byte cap or per-node live
  // session cap), FailedPrecondition (bytes for a completed session),
  // Unavailable (an I/O error; the chunk was taken back). A full disk is not
  // an error but ChunkResult::storage_full, logged with the file and the
  // system error: the HTTP layer must tell it apart from the caps above.
  Result<ChunkResult> PutChunk(const NodeRecord& node, const std::string& id, std::uint64_t offset,
                               std::string_view bytes, const std::string& source);

  // POST /v1/nodes/sessions/{id}/complete. sha256: 64 lower-case hex.
  // Completing a completed session again with the same size and digest
  // returns the same answer (the node's first 200 may have been lost).
  // Errors: InvalidArgument, NotFound (no such session), PermissionDenied
  // (another node's session), FailedPrecondition (completed before with
  // another size or digest).
  Result<CompleteResult> Complete(const NodeRecord& node, const std::string& id, std::uint64_t size,
                                  const std::string& sha256, const std::string& source);

  // The node is leaving (DELETE /v1/nodes/self, gatectl nodes rm): none of
  // its live uploads will ever complete. Each is completed from what gate-ca
  // holds, as not verified, its detail saying it was cut short, and audited
  // like any completion. Returns the first error; the others are still
  // tried.
  Status CloseLiveSessions(const NodeRecord& node, const std::string& source);

 private:
  std::mutex& LockFor(const std::string& id);
  // Audits a refused upload and returns status.
  Status Refuse(const NodeRecord& node, const std::string& id, const std::string& source,
                Status status);
  // Appends bytes at offset (files_.Append); a full disk becomes
  // ChunkResult::storage_full at offset, other errors stay errors.
  Result<ChunkResult> AppendChunk(const std::string& id, std::uint64_t offset,
                                  std::string_view bytes);
  Result<ChunkResult> FirstChunk(const NodeRecord& node, const std::string& id,
                                 std::string_view bytes, const std::string& source, bool has_row);
  void AuditCompletion(const SessionRecord& session, const NodeRecord& node,
                       const std::string& source, const RecordingSummary& summary);
  // Completes row from the bytes gate-ca holds: summary, digest, index,
  // audit. cut, when not empty, says why the recording is incomplete; the
  // session is then never verified. digest: the file's SHA-256 if the caller
  // has it already (hex), else empty. Call with the session's lock held.
  Result<SessionRecord> Finish(const SessionRecord& row, const NodeRecord& node,
                               const std::string& source, const std::string& cut,
                               std::string digest = "");

  Store& store_;
  AuditLog& audit_;
  RecordingFiles& files_;
  const SessionLimits limits_;
  const std::function<std::int64_t()> now_;
  std::array<std::mutex, 64> stripes_;
};

}  // namespace gate::ca

#endif  // GATE_CA_SESSIONS_SESSION_INGEST_H_
