#include "ca-server/auth/web_sessions.h"

#include <algorithm>
#include <utility>

#include "ca-server/auth/locks.h"
#include "gate/bytes.h"

namespace gate::ca {
namespace {

constexpr std::size_t kWebSessionIdBytes = 32;
// Keeps the CSRF token's hash apart from the id's own (id_hash).
constexpr std::string_view kCsrfDomain = "gate web csrf v1\n";

bool LooksLikeSessionId(std::string_view id) {
  if (id.size() != kWebSessionIdChars) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

SecretString CsrfTokenFor(std::string_view session_id) {
  SecretString input(kCsrfDomain);
  input.append(session_id.data(), session_id.size());
  std::string digest = Sha256(input.view());
  SecretString token(Base64UrlEncode(digest));
  Wipe(digest.data(), digest.size());
  return token;
}

}  // namespace

WebSessions::WebSessions(WebSessionOptions options, Store& store, AuditLog& audit,
                         std::function<std::int64_t()> now)
    : options_(options), store_(store), audit_(audit), now_(std::move(now)) {}

std::string WebSessions::HashSecret(std::string_view secret) { return HexEncode(Sha256(secret)); }

bool WebSessions::CsrfMatches(const WebSessionRecord& session, std::string_view csrf_token) {
  return ConstantTimeEquals(HashSecret(csrf_token), session.csrf_hash);
}

Result<NewWebSession> WebSessions::Create(const std::string& user, const std::string& source) {
  auto random = RandomBytes(kWebSessionIdBytes);
  if (!random) return Err(random.error());
  NewWebSession out;
  std::string encoded = Base64UrlEncode(*random);
  out.id = SecretString(encoded);
  Wipe(random->data(), random->size());
  Wipe(encoded.data(), encoded.size());
  out.csrf_token = CsrfTokenFor(out.id.view());
  const std::int64_t now = now_();
  WebSessionRecord& r = out.record;
  r.id_hash = HashSecret(out.id.view());
  r.user = user;
  r.csrf_hash = HashSecret(out.csrf_token.view());
  r.created_at = now;
  r.last_seen_at = now;
  r.expires_at = now + options_.ttl.count();
  r.source = source;
  Status stored = store_.InTransaction([&](StoreOperations& tx) -> Status {
    auto pruned = tx.DeleteStaleWebSessions(now, now - options_.idle_timeout.count());
    if (!pruned) return pruned.error();
    GATE_RETURN_IF_ERROR(tx.CreateWebSession(r));
    auto sessions = tx.ListUserWebSessions(user);
    if (!sessions) return sessions.error();
    // Oldest first; the new one is never evicted, whatever its place in a tie.
    std::size_t live = sessions->size();
    for (const WebSessionRecord& old : *sessions) {
      if (live <= options_.max_per_user) break;
      if (old.id_hash == r.id_hash) continue;
      GATE_RETURN_IF_ERROR(tx.DeleteWebSession(old.id_hash));
      --live;
    }
    return Status::Ok();
  });
  if (!stored.ok()) return Err(stored);
  return out;
}

Status WebSessions::Refused(const std::string& id_hash, bool delete_row) {
  if (delete_row) GATE_RETURN_IF_ERROR(store_.DeleteWebSession(id_hash));
  return Unauthenticated(std::string(kNotLoggedIn));
}

Result<ActiveWebSession> WebSessions::Validate(std::string_view session_id) {
  if (!LooksLikeSessionId(session_id)) return Err(Unauthenticated(std::string(kNotLoggedIn)));
  auto session = Recheck(HashSecret(session_id), /*active=*/true);
  if (!session) return session;
  session->csrf_token = CsrfTokenFor(session_id);
  return session;
}

Result<ActiveWebSession> WebSessions::Recheck(const std::string& id_hash, bool active) {
  auto record = store_.GetWebSession(id_hash);
  if (!record) {
    if (record.error().code() == Code::kNotFound) {
      return Err(Unauthenticated(std::string(kNotLoggedIn)));
    }
    return Err(record.error());
  }
  const std::int64_t now = now_();
  if (now >= record->expires_at || now - record->last_seen_at >= options_.idle_timeout.count()) {
    return Err(Refused(id_hash, true));
  }
  auto user = store_.GetUser(record->user);
  if (!user) {
    if (user.error().code() == Code::kNotFound) return Err(Refused(id_hash, true));
    return Err(user.error());
  }
  if (!user->signed_up()) return Err(Refused(id_hash, true));
  auto lock = ActiveLockOf(store_, user->name, now);
  if (!lock) return Err(lock.error());
  if (lock->has_value()) {
    audit_.Record({now, "user.web_session", user->name, record->source, false,
                   "browser session ended: user is locked: " + (*lock)->message});
    return Err(Refused(id_hash, true));
  }
  if (active && now - record->last_seen_at >= options_.refresh_interval.count()) {
    Status touched = store_.TouchWebSession(id_hash, now);
    // Logged out (or evicted) between the read and the write.
    if (touched.code() == Code::kNotFound) return Err(Unauthenticated(std::string(kNotLoggedIn)));
    GATE_RETURN_IF_ERROR(touched);
    record->last_seen_at = now;
  }
  ActiveWebSession out;
  out.record = *std::move(record);
  out.user = *std::move(user);
  return out;
}

Status WebSessions::End(std::string_view session_id) {
  if (!LooksLikeSessionId(session_id)) return Status::Ok();
  return store_.DeleteWebSession(HashSecret(session_id));
}

Result<int> WebSessions::Prune() {
  const std::int64_t now = now_();
  return store_.DeleteStaleWebSessions(now, now - options_.idle_timeout.count());
}

}  // namespace gate::ca
