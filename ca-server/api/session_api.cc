#include "ca-server/api/session_api.h"

#include <string>
#include <utility>

#include "ca-server/api/node_api.h"
#include "ca-server/api/query.h"
#include "ca-server/auth/node_auth.h"
#include "ca-server/sessions/session_access.h"
#include "gate/ed25519.h"
#include "gate/json.h"
#include "gate/log.h"
#include "gate/names.h"
#include "gate/uuid.h"

namespace gate::ca {
namespace {

constexpr std::string_view kChunkPrefix = "/v1/nodes/sessions/";
constexpr std::size_t kDefaultListLimit = 100;
constexpr std::size_t kMaxListLimit = 1000;

Result<NodeRecord> AuthenticateUploader(SessionApiDeps& d, const HttpRequest& req) {
  auto node = AuthenticateNode(d.services.store, req.authorization);
  if (!node && node.error().code() == Code::kUnauthenticated) {
    log::Warning("session upload: " + node.error().message() + " from " + req.source);
  }
  return node;
}

Status CheckSessionId(const std::string& id) {
  if (!IsCanonicalUuid(id)) return InvalidArgument("session id must be a lower-case UUID");
  return Status::Ok();
}

HttpReply JsonReply(int status, Json::Value body) {
  HttpReply reply;
  reply.status = status;
  reply.body = std::move(body);
  return reply;
}

// 409 with the size to resume from, and the error object every client
// already understands.
HttpReply Conflict(std::uint64_t size, const std::string& message) {
  HttpReply reply = ErrorReply(FailedPrecondition(message));
  reply.body["size"] = Json::UInt64(size);
  return reply;
}

HttpReply PutChunk(SessionApiDeps& d, const HttpRequest& req, const PathParams& params) {
  auto node = AuthenticateUploader(d, req);
  if (!node) return ErrorReply(node.error());
  const std::string& id = params.at("id");
  auto query = ParseQuery(req.query, {"offset"});
  if (!query) return ErrorReply(query.error());
  if (query->count("offset") == 0) {
    return ErrorReply(InvalidArgument("query parameter 'offset' is required"));
  }
  auto offset = QueryNumber(*query, "offset", 0);
  if (!offset) return ErrorReply(offset.error());
  auto result = d.ingest.PutChunk(*node, id, *offset, req.body, req.source);
  if (!result) return ErrorReply(result.error());
  if (result->storage_full) {
    // 507, not 429: the node is not sending too fast, gate-ca's disk is
    // full. The uploader keeps the chunk spooled and retries with backoff;
    // Retry-After says that a minute is a sensible pause.
    HttpReply reply =
        ErrorReply(507, Code::kResourceExhausted,
                   "gate-ca cannot store session " + id +
                       ": No space left on device; keep the recording and send it again later");
    reply.headers.emplace_back("Retry-After", "60");
    return reply;
  }
  if (result->conflict) {
    return Conflict(result->size, "offset " + std::to_string(*offset) +
                                      " is not gate-ca's size of this recording (" +
                                      std::to_string(result->size) + "); resume from there");
  }
  Json::Value out;
  out["size"] = Json::UInt64(result->size);
  return JsonReply(200, out);
}

HttpReply Complete(SessionApiDeps& d, const HttpRequest& req, const PathParams& params) {
  auto node = AuthenticateUploader(d, req);
  if (!node) return ErrorReply(node.error());
  auto body = json::Parse(req.body);
  if (!body) return ErrorReply(body.error());
  auto size = json::GetInt(*body, "size");
  if (!size) return ErrorReply(size.error());
  if (*size < 0) return ErrorReply(InvalidArgument("field 'size' must not be negative"));
  auto sha256 = json::GetString(*body, "sha256");
  if (!sha256) return ErrorReply(sha256.error());
  auto result = d.ingest.Complete(*node, params.at("id"), static_cast<std::uint64_t>(*size),
                                  *sha256, req.source);
  if (!result) return ErrorReply(result.error());
  if (result->conflict) {
    return Conflict(result->size,
                    result->size == 0
                        ? "gate-ca's copy did not match; it was discarded, send it again from 0"
                        : "gate-ca holds " + std::to_string(result->size) +
                              " bytes of this recording; send the rest first");
  }
  Json::Value out;
  out["size"] = Json::UInt64(result->size);
  out["sha256"] = result->sha256;
  out["verified"] = result->verified;
  out["verify_detail"] = result->verify_detail;
  return JsonReply(200, out);
}

Result<Json::Value> PutRecorderKey(SessionApiDeps& d, const HttpRequest& req) {
  auto node = AuthenticateUploader(d, req);
  if (!node) return Err(node.error());
  auto body = json::Parse(req.body);
  if (!body) return Err(body.error());
  auto line = json::GetString(*body, "public_key");
  if (!line) return Err(line.error());
  auto key = ssh::Ed25519PublicKey::FromAuthorizedKey(*line);
  if (!key) return Err(InvalidArgument("public_key: " + key.error().message()));
  GATE_RETURN_IF_ERROR(
      Enrollment(d.services).SetRecorderKey(*node, *key, req.source, d.services.now()));
  Json::Value out;
  out["fingerprint"] = key->Fingerprint();
  return out;
}

Result<RequestUser> AuthenticateUser(SessionApiDeps& d, const HttpRequest& req) {
  return AuthenticateUserRequest(d.users, d.browser, req);
}

Json::Value SessionToJson(const SessionRecord& s) {
  Json::Value out;
  out["id"] = s.id;
  out["user"] = s.user;
  out["login"] = s.login;
  out["node"] = s.host_uuid;
  out["node_name"] = s.node_name;
  out["mode"] = s.mode;
  out["started_at"] = Json::Int64(s.started_at);
  out["ended_at"] = Json::Int64(s.ended_at);
  out["live"] = s.live;
  out["size"] = Json::Int64(s.size);
  out["verified"] = s.verified;
  out["verify_detail"] = s.verify_detail;
  out["exit"] = Json::Value(Json::nullValue);
  if (!s.exit.empty()) {
    if (auto exit = json::Parse(s.exit); exit) out["exit"] = *exit;
  }
  return out;
}

// A page cursor is "STARTED_AT.ID" of the last session of the page before:
// opaque to clients, which pass back the `next_before` they were given.
std::string SessionCursorText(const SessionRecord& s) {
  return std::to_string(s.started_at) + "." + s.id;
}

Result<SessionFilter::Cursor> ParseSessionCursor(const std::string& text) {
  const Status bad =
      InvalidArgument("query parameter 'before' must be the 'next_before' of a previous page");
  const auto dot = text.find('.');
  if (dot == std::string::npos) return Err(bad);
  const auto started_at = ParseCanonicalDecimal(std::string_view(text).substr(0, dot));
  if (!started_at) return Err(bad);
  SessionFilter::Cursor cursor{static_cast<std::int64_t>(*started_at), text.substr(dot + 1)};
  if (!IsCanonicalUuid(cursor.id)) return Err(bad);
  return cursor;
}

Result<bool> BoolParam(const QueryParams& q, std::string_view name) {
  const std::string& v = q.find(name)->second;
  if (v == "1" || v == "true") return true;
  if (v == "0" || v == "false") return false;
  return Err(InvalidArgument("query parameter '" + std::string(name) + "' must be 1 or 0"));
}

Result<Json::Value> ListSessions(SessionApiDeps& d, const HttpRequest& req) {
  auto who = AuthenticateUser(d, req);
  if (!who) return Err(who.error());
  auto q = ParseQuery(req.query, {"live", "user", "node", "since", "limit", "before"});
  if (!q) return Err(q.error());
  SessionFilter filter;
  if (q->count("live") != 0) {
    auto live = BoolParam(*q, "live");
    if (!live) return Err(live.error());
    filter.live = *live;
  }
  if (auto it = q->find("user"); it != q->end()) {
    GATE_RETURN_IF_ERROR(ValidateUserName(it->second).WithContext("query parameter 'user'"));
    filter.user = it->second;
  }
  if (auto it = q->find("node"); it != q->end()) {
    if (it->second.empty() || it->second.size() > 255) {
      return Err(InvalidArgument("query parameter 'node' must be a host UUID or node name"));
    }
    filter.node = it->second;
  }
  auto since = QueryNumber(*q, "since", 0);
  if (!since) return Err(since.error());
  filter.since = static_cast<std::int64_t>(*since);
  auto limit = QueryNumber(*q, "limit", kDefaultListLimit);
  if (!limit) return Err(limit.error());
  if (*limit == 0 || *limit > kMaxListLimit) {
    return Err(
        InvalidArgument("query parameter 'limit' must be 1.." + std::to_string(kMaxListLimit)));
  }
  // One more than asked: whether it comes back says if there is a next page.
  filter.limit = static_cast<std::size_t>(*limit) + 1;
  if (auto it = q->find("before"); it != q->end()) {
    auto cursor = ParseSessionCursor(it->second);
    if (!cursor) return Err(cursor.error());
    filter.before = *std::move(cursor);
  }
  auto visibility = SessionVisibility(d.services.store, who->user);
  if (!visibility) return Err(visibility.error());
  filter.visible_to = *std::move(visibility);
  auto sessions = d.services.store.ListSessions(filter);
  if (!sessions) return Err(sessions.error());
  const bool more = sessions->size() > *limit;
  if (more) sessions->pop_back();
  Json::Value out;
  out["sessions"] = Json::Value(Json::arrayValue);
  for (const auto& s : *sessions) out["sessions"].append(SessionToJson(s));
  if (more) out["next_before"] = SessionCursorText(sessions->back());
  return out;
}

// The session if the requester may see it (sessions/session_access.h).
Result<SessionRecord> VisibleSession(SessionApiDeps& d, const RequestUser& who,
                                     const std::string& id) {
  GATE_RETURN_IF_ERROR(CheckSessionId(id));
  return VisibleSession(d.services.store, who.user, id);
}

Result<Json::Value> GetSession(SessionApiDeps& d, const HttpRequest& req,
                               const PathParams& params) {
  auto who = AuthenticateUser(d, req);
  if (!who) return Err(who.error());
  if (auto q = ParseQuery(req.query, {}); !q) return Err(q.error());
  auto session = VisibleSession(d, *who, params.at("id"));
  if (!session) return Err(session.error());
  return SessionToJson(*session);
}

HttpReply GetRecording(SessionApiDeps& d, const HttpRequest& req, const PathParams& params) {
  auto who = AuthenticateUser(d, req);
  if (!who) return ErrorReply(who.error());
  auto q = ParseQuery(req.query, {"offset", "limit"});
  if (!q) return ErrorReply(q.error());
  auto offset = QueryNumber(*q, "offset", 0);
  if (!offset) return ErrorReply(offset.error());
  auto limit = QueryNumber(*q, "limit", kMaxRecordingRead);
  if (!limit) return ErrorReply(limit.error());
  if (*limit == 0 || *limit > kMaxRecordingRead) {
    return ErrorReply(
        InvalidArgument("query parameter 'limit' must be 1.." + std::to_string(kMaxRecordingRead)));
  }
  auto session = VisibleSession(d, *who, params.at("id"));
  if (!session) return ErrorReply(session.error());
  auto size = d.files.Size(session->id);
  if (!size) return ErrorReply(size.error());
  if (*offset > *size) {
    return ErrorReply(InvalidArgument("offset " + std::to_string(*offset) +
                                      " is past the end of the recording (" +
                                      std::to_string(*size) + " bytes)"));
  }
  auto bytes = d.files.Read(session->id, *offset, static_cast<std::size_t>(*limit));
  if (!bytes) return ErrorReply(bytes.error());
  if (*offset == 0) {
    d.services.audit.Record({d.services.now(), "session.play", who->user.name, req.source, true,
                             "session " + session->id + " of " + session->user + " (" +
                                 session->login + "@" + session->node_name + ")"});
  }
  HttpReply reply;
  // 204 marks "nothing from this offset on": an empty 200 would go out as
  // "{}" (HttpReply sends JSON when raw_body is empty).
  reply.status = bytes->empty() ? 204 : 200;
  reply.raw_body = *std::move(bytes);
  reply.content_type = "application/x-asciicast";
  reply.headers.emplace_back("X-Gate-Recording-Size", std::to_string(*size));
  reply.headers.emplace_back("X-Gate-Session-Live", session->live ? "1" : "0");
  return reply;
}

}  // namespace

Result<SignedUser> AuthenticateSignedUser(RequestAuthenticator& users, const HttpRequest& req) {
  SignedRequest signed_request;
  signed_request.method = req.method;
  signed_request.target = req.query.empty() ? req.path : req.path + "?" + req.query;
  signed_request.body = req.body;
  signed_request.authorization = req.authorization;
  signed_request.signature = req.signature;
  signed_request.source = req.source;
  return users.Authenticate(signed_request);
}

Result<RequestUser> AuthenticateUserRequest(RequestAuthenticator& users, BrowserAuth* browser,
                                            const HttpRequest& req) {
  if (browser != nullptr && req.authorization.empty() && HasSessionCookie(req)) {
    auto session = browser->Authenticate(req);
    if (!session) return Err(session.error());
    return RequestUser{std::move(session->user), true};
  }
  auto signed_user = AuthenticateSignedUser(users, req);
  if (!signed_user) return Err(signed_user.error());
  return RequestUser{std::move(signed_user->user), false};
}

bool IsChunkUpload(Store& store, std::string_view method, std::string_view path,
                   std::string_view authorization) {
  if (method != "PUT" || path.substr(0, kChunkPrefix.size()) != kChunkPrefix) return false;
  const std::string_view id = path.substr(kChunkPrefix.size());
  if (id.empty() || id.find('/') != std::string_view::npos) return false;
  return AuthenticateNode(store, authorization).has_value();
}

void RegisterSessionApi(Router& router, SessionApiDeps& deps) {
  SessionApiDeps* d = &deps;
  constexpr TrafficClass kUpload = TrafficClass::kUpload;
  router.AddBinary(
      "PUT", "/v1/nodes/sessions/{id}",
      [d](const HttpRequest& r, const PathParams& p) { return PutChunk(*d, r, p); }, kUpload);
  router.AddRaw(
      "POST", "/v1/nodes/sessions/{id}/complete",
      [d](const HttpRequest& r, const PathParams& p) { return Complete(*d, r, p); }, kUpload);
  router.Add(
      "PUT", "/v1/nodes/recorder-key",
      [d](const HttpRequest& r, const PathParams&) { return PutRecorderKey(*d, r); }, kUpload);
  router.Add("GET", "/v1/sessions",
             [d](const HttpRequest& r, const PathParams&) { return ListSessions(*d, r); });
  router.Add("GET", "/v1/sessions/{id}",
             [d](const HttpRequest& r, const PathParams& p) { return GetSession(*d, r, p); });
  router.AddRaw("GET", "/v1/sessions/{id}/recording",
                [d](const HttpRequest& r, const PathParams& p) { return GetRecording(*d, r, p); });
}

}  // namespace gate::ca
