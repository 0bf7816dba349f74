#include "ca-server/sessions/session_ingest.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <utility>

#include "gate/asciicast.h"
#include "gate/bytes.h"
#include "gate/json.h"
#include "gate/log.h"
#include "gate/names.h"
#include "gate/secret.h"
#include "gate/uuid.h"

namespace gate::ca {
namespace {

bool IsLowerHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string NodeText(const NodeRecord& node) {
  return "node " + node.host_uuid + " (" + node.hostname + ")";
}

std::string Seconds(double t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", t);
  return buf;
}

}  // namespace

SessionIngest::SessionIngest(Store& store, AuditLog& audit, RecordingFiles& files,
                             SessionLimits limits, std::function<std::int64_t()> now)
    : store_(store), audit_(audit), files_(files), limits_(limits), now_(std::move(now)) {}

std::mutex& SessionIngest::LockFor(const std::string& id) {
  return stripes_[std::hash<std::string>{}(id) % stripes_.size()];
}

Status SessionIngest::Refuse(const NodeRecord& node, const std::string& id,
                             const std::string& source, Status status) {
  audit_.Record({now_(), "session.upload", "", source, false,
                 "session " + id + " from " + NodeText(node) + ": " + status.message()});
  return status;
}

Result<ChunkResult> SessionIngest::PutChunk(const NodeRecord& node, const std::string& id,
                                            std::uint64_t offset, std::string_view bytes,
                                            const std::string& source) {
  if (!IsCanonicalUuid(id)) {
    return Err(InvalidArgument("session id must be a lower-case UUID"));
  }
  if (bytes.size() > limits_.max_chunk_bytes) {
    return Err(InvalidArgument("a chunk is at most " + std::to_string(limits_.max_chunk_bytes) +
                               " bytes"));
  }
  std::lock_guard<std::mutex> lock(LockFor(id));
  auto row = store_.GetSession(id);
  if (!row && row.error().code() != Code::kNotFound) return Err(row.error());
  const bool has_row = row.has_value();
  if (has_row && row->host_uuid != node.host_uuid) {
    return Err(
        Refuse(node, id, source, PermissionDenied("session " + id + " belongs to another node")));
  }
  // Without an index row any file is an orphan of a failed first chunk.
  std::uint64_t current = 0;
  if (has_row) {
    auto size = files_.Size(id);
    if (!size) return Err(size.error());
    current = *size;
  }
  if (offset != current) return ChunkResult{true, current};
  if (bytes.empty()) return ChunkResult{false, current};
  if (has_row && !row->live) {
    return Err(
        Refuse(node, id, source, FailedPrecondition("session " + id + " is already complete")));
  }
  if (current > limits_.max_session_bytes || bytes.size() > limits_.max_session_bytes - current) {
    return Err(Refuse(
        node, id, source,
        ResourceExhausted("session " + id + " would exceed the limit of " +
                          std::to_string(limits_.max_session_bytes) + " bytes per recording")));
  }
  if (current == 0) return FirstChunk(node, id, bytes, source, has_row);

  auto stored = AppendChunk(id, current, bytes);
  if (!stored || stored->storage_full) return stored;
  GATE_RETURN_IF_ERROR(store_.SetSessionSize(id, static_cast<std::int64_t>(stored->size)));
  return stored;
}

Result<ChunkResult> SessionIngest::AppendChunk(const std::string& id, std::uint64_t offset,
                                               std::string_view bytes) {
  const Status appended = files_.Append(id, offset, bytes);
  // RecordingFiles says ResourceExhausted for a full disk and nothing else:
  // the node's chunk is fine, gate-ca's disk is not.
  if (appended.code() == Code::kResourceExhausted) {
    log::Error("session " + id +
               ": chunk refused, no room on gate-ca's disk: " + appended.message());
    return ChunkResult{false, offset, true};
  }
  if (!appended.ok()) return Err(appended);
  return ChunkResult{false, offset + bytes.size()};
}

Result<ChunkResult> SessionIngest::FirstChunk(const NodeRecord& node, const std::string& id,
                                              std::string_view bytes, const std::string& source,
                                              bool has_row) {
  const std::size_t nl = bytes.find('\n');
  if (nl == std::string_view::npos) {
    return Err(Refuse(node, id, source,
                      InvalidArgument("the first chunk must hold the whole header line")));
  }
  auto header = cast::ParseHeader(bytes.substr(0, nl + 1));
  if (!header) {
    return Err(Refuse(node, id, source,
                      InvalidArgument("bad recording header: " + header.error().message())));
  }
  if (header->session_id != id) {
    return Err(Refuse(node, id, source,
                      InvalidArgument("the header is for session '" +
                                      header->session_id.substr(0, 64) + "', not " + id)));
  }
  if (header->node != node.host_uuid) {
    return Err(Refuse(node, id, source,
                      PermissionDenied("the header names another node than the one uploading")));
  }
  // These are indexed, listed and audited: the rules names obey everywhere.
  if (Status s = ValidateUserName(header->user); !s.ok()) {
    return Err(Refuse(node, id, source, InvalidArgument("bad header: " + s.message())));
  }
  if (Status s = ValidateLogin(header->login); !s.ok()) {
    return Err(Refuse(node, id, source, InvalidArgument("bad header: " + s.message())));
  }
  if (header->timestamp < 0) {
    return Err(Refuse(node, id, source, InvalidArgument("bad header: negative timestamp")));
  }
  const std::int64_t now = now_();
  if (has_row) {
    // Re-sent from offset 0 after gate-ca emptied its copy: same session.
    auto stored = AppendChunk(id, 0, bytes);
    if (!stored || stored->storage_full) return stored;
    GATE_RETURN_IF_ERROR(store_.SetSessionSize(id, static_cast<std::int64_t>(bytes.size())));
    return stored;
  }
  auto live = store_.CountLiveSessions(node.host_uuid);
  if (!live) return Err(live.error());
  if (*live >= limits_.max_live_sessions_per_node) {
    return Err(Refuse(node, id, source,
                      ResourceExhausted(NodeText(node) + " already has " + std::to_string(*live) +
                                        " recordings uploading (the limit)")));
  }
  GATE_RETURN_IF_ERROR(files_.Truncate(id));
  auto stored = AppendChunk(id, 0, bytes);
  if (!stored || stored->storage_full) return stored;
  SessionRecord session;
  session.id = id;
  session.user = header->user;
  session.login = header->login;
  session.host_uuid = node.host_uuid;
  session.node_name = node.hostname;
  session.mode = header->mode;
  session.started_at = header->timestamp;
  session.live = true;
  session.size = static_cast<std::int64_t>(bytes.size());
  session.created_at = now;
  Status created = store_.CreateSession(session);
  if (!created.ok()) {
    static_cast<void>(files_.Truncate(id));
    return Err(created);
  }
  audit_.Record(
      {now, "session.start", session.user, source, true,
       "session " + id + " " + session.login + "@" + node.hostname + " (" + node.host_uuid +
           "), mode " + session.mode +
           (header->command.empty() ? ""
                                    : ", command " + json::Write(Json::Value(header->command)))});
  return ChunkResult{false, bytes.size()};
}

Result<CompleteResult> SessionIngest::Complete(const NodeRecord& node, const std::string& id,
                                               std::uint64_t size, const std::string& sha256,
                                               const std::string& source) {
  if (!IsCanonicalUuid(id)) {
    return Err(InvalidArgument("session id must be a lower-case UUID"));
  }
  if (!IsLowerHex64(sha256)) {
    return Err(InvalidArgument("field 'sha256' must be 64 lower-case hex digits"));
  }
  // A recording has at least its header line; an empty one is no recording.
  if (size == 0) return Err(InvalidArgument("an empty recording cannot be completed"));
  std::lock_guard<std::mutex> lock(LockFor(id));
  auto row = store_.GetSession(id);
  if (!row) {
    if (row.error().code() == Code::kNotFound) {
      return Err(Refuse(node, id, source, NotFound("no upload of session " + id + " is known")));
    }
    return Err(row.error());
  }
  if (row->host_uuid != node.host_uuid) {
    return Err(
        Refuse(node, id, source, PermissionDenied("session " + id + " belongs to another node")));
  }
  if (!row->live) {
    if (static_cast<std::uint64_t>(row->size) == size && ConstantTimeEquals(row->sha256, sha256)) {
      return CompleteResult{false, size, row->sha256, row->verified, row->verify_detail};
    }
    return Err(
        Refuse(node, id, source,
               FailedPrecondition("session " + id + " was completed with another size or digest")));
  }
  auto current = files_.Size(id);
  if (!current) return Err(current.error());
  // The node has more to send: not a mismatch, just early.
  if (size > *current) return CompleteResult{true, *current, "", false, ""};

  std::string digest;
  if (size == *current) {
    auto mapped = files_.Map(id);
    if (!mapped) return Err(mapped.error());
    digest = HexEncode(Sha256(mapped->view()));
  }
  if (size < *current || !ConstantTimeEquals(digest, sha256)) {
    // Which bytes differ is unknowable; start over rather than keep a copy
    // that is not the node's.
    GATE_RETURN_IF_ERROR(files_.Truncate(id));
    GATE_RETURN_IF_ERROR(store_.SetSessionSize(id, 0));
    static_cast<void>(
        Refuse(node, id, source,
               FailedPrecondition(size < *current ? "gate-ca holds more bytes than the node; "
                                                    "copy discarded, re-sending"
                                                  : "digest mismatch; copy discarded, "
                                                    "re-sending")));
    return CompleteResult{true, 0, "", false, ""};
  }
  auto done = Finish(*row, node, source, "", digest);
  if (!done) return Err(done.error());
  return CompleteResult{false, size, done->sha256, done->verified, done->verify_detail};
}

Result<SessionRecord> SessionIngest::Finish(const SessionRecord& row, const NodeRecord& node,
                                            const std::string& source, const std::string& cut,
                                            std::string digest) {
  GATE_RETURN_IF_ERROR(files_.Sync(row.id));
  auto mapped = files_.Map(row.id);
  if (!mapped) return Err(mapped.error());
  const RecordingSummary summary = SummarizeRecording(mapped->view(), node.recorder_key);

  SessionRecord done = row;
  done.live = false;
  done.size = static_cast<std::int64_t>(mapped->view().size());
  done.sha256 = digest.empty() ? HexEncode(Sha256(mapped->view())) : std::move(digest);
  done.completed_at = now_();
  const double whole = std::ceil(std::max(0.0, summary.duration));
  done.ended_at = row.started_at +
                  (whole < 1e12 ? static_cast<std::int64_t>(whole) : std::int64_t{1000000000000});
  done.verified = summary.verified && cut.empty();
  done.verify_detail = summary.verify_detail;
  if (!summary.parse_error.empty())
    done.verify_detail += "; unreadable from " + summary.parse_error;
  if (!cut.empty()) done.verify_detail = cut + "; " + done.verify_detail;
  done.exit = summary.exit;
  GATE_RETURN_IF_ERROR(store_.CompleteSession(done));
  AuditCompletion(done, node, source, summary);
  return done;
}

Status SessionIngest::CloseLiveSessions(const NodeRecord& node, const std::string& source) {
  SessionFilter filter;
  filter.live = true;
  filter.node = node.host_uuid;
  auto live = store_.ListSessions(filter);
  if (!live) return live.error();
  Status first = Status::Ok();
  for (const SessionRecord& row : *live) {
    if (row.host_uuid != node.host_uuid) continue;  // a node *named* like this UUID
    std::lock_guard<std::mutex> lock(LockFor(row.id));
    auto done =
        Finish(row, node, source, "cut short: the node left gate-ca before its upload completed");
    if (!done && first.ok()) first = done.error();
  }
  return first;
}

void SessionIngest::AuditCompletion(const SessionRecord& session, const NodeRecord& node,
                                    const std::string& source, const RecordingSummary& summary) {
  const std::string where = session.login + "@" + node.hostname;
  for (const JoinEvent& j : summary.joins) {
    audit_.Record({session.completed_at, j.join ? "session.join" : "session.leave", j.user, source,
                   true,
                   "session " + session.id + " of " + session.user + " (" + where + ")" +
                       (j.mode.empty() ? "" : " as " + j.mode) + " at +" + Seconds(j.time) + " s" +
                       (session.verified ? "" : " (recording not verified)")});
  }
  if (summary.dropped_joins > 0 || summary.malformed_joins > 0) {
    audit_.Record({session.completed_at, "session.join", "", source, false,
                   "session " + session.id + ": " + std::to_string(summary.dropped_joins) +
                       " join events beyond the limit, " + std::to_string(summary.malformed_joins) +
                       " malformed"});
  }
  if (!session.verified) {
    audit_.Record(
        {session.completed_at, "session.verify", session.user, source, false,
         "session " + session.id + " from " + NodeText(node) + ": " + session.verify_detail});
  }
  audit_.Record({session.completed_at, "session.end", session.user, source, true,
                 "session " + session.id + " " + where + ", " + std::to_string(session.size) +
                     " bytes, " + (session.verified ? "verified" : "NOT verified") +
                     (session.exit.empty() ? "" : ", exit " + session.exit)});
}

}  // namespace gate::ca
