#include "sshd-hooks/node/syncer.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "gate/bytes.h"
#include "gate/certificate.h"
#include "gate/json.h"
#include "gate/node_cache.h"
#include "gate/secure_file.h"
#include "sshd-hooks/node/host_cert.h"
#include "sshd-hooks/node/policy_sync.h"

namespace gate::node {
namespace {

// More pages than this is a gate-ca gone wrong (100,000 users take 100).
constexpr int kMaxPolicyPages = 10000;
// Present after a delta that did not apply: the next sync fetches the full
// snapshot instead of asking for another delta from the same revision.
constexpr char kFullSyncNextFile[] = "sync-full-next";

Result<PolicyReply> FetchPolicy(const HttpClient& client, const NodeState& state,
                                std::int64_t since, const std::string& cursor) {
  std::string path = "/v1/nodes/policy?since=" + std::to_string(since);
  if (!cursor.empty()) path += "&cursor=" + PercentEncode(cursor);
  auto reply = client.Call("GET", path);
  if (!reply) return Err(reply.error());
  auto parsed = ParsePolicyReply(*reply, state.host_uuid);
  if (!parsed) return Err(parsed.error().WithContext("policy reply"));
  return parsed;
}

// The whole snapshot, page by page, from first (already fetched).
Result<policy::Snapshot> FetchPages(const HttpClient& client, const NodeState& state,
                                    const PolicyReply& first, int& pages) {
  policy::Snapshot assembled = first.snapshot;
  std::string next = first.next;
  for (pages = 1; !next.empty(); ++pages) {
    if (pages >= kMaxPolicyPages) {
      return Err(
          DataLoss("gate-ca sent more than " + std::to_string(kMaxPolicyPages) + " policy pages"));
    }
    auto page = FetchPolicy(client, state, 0, next);
    if (!page) return Err(page.error().WithContext("policy page " + std::to_string(pages + 1)));
    GATE_RETURN_IF_ERROR(
        AppendPage(assembled, *page).WithContext("policy page " + std::to_string(pages + 1)));
    next = page->next;
  }
  return assembled;
}

// The three cache files' contents for a whole snapshot, validated as a
// reply of the whole policy would be.
Result<hooks::CacheContents> WholeCache(const policy::Snapshot& snapshot, const PolicyReply& reply,
                                        const NodeState& state) {
  Json::Value whole;
  whole["snapshot"] = policy::SnapshotToJson(snapshot);
  whole["user_ca"] = reply.user_ca;
  whole["krl"] = reply.krl_base64;
  return hooks::CacheFromPolicyReply(whole, state.host_uuid);
}

// Whether the user CA gate-ca names is the one in the cache.
bool SameUserCa(const CacheLocation& cache, const Json::Value& user_ca) {
  auto cached = ReadUserCaKeys(cache);
  if (!cached || !user_ca.isArray()) return false;
  std::string sent;
  for (const Json::Value& line : user_ca) {
    if (!line.isString()) return false;
    sent += line.asString() + "\n";
  }
  auto keys = ParseUserCaKeys(sent);
  return keys && FormatUserCaKeys(*keys) == FormatUserCaKeys(*cached);
}

// One sync by revision (docs/node-protocol.md, "Sync"): ask for what
// changed since the last good cache's revision; nothing to write when
// unchanged, the delta applied to that cache, or every page of the full
// snapshot. Any error leaves the cache as it was.
Status SyncCache(const NodePaths& paths, const NodeState& state, const HttpClient& client,
                 SyncOutcome& out, std::vector<std::string>& host_names) {
  CacheLocation cache;
  cache.dir = paths.CacheDir();
  cache.owner = ::geteuid();
  const std::string full_next = paths.data_dir + "/" + kFullSyncNextFile;
  std::optional<policy::Snapshot> last_good;
  if (::access(full_next.c_str(), F_OK) != 0) {
    if (auto cached = ReadSnapshot(cache); cached && cached->revision > 0) {
      last_good = *std::move(cached);
    }
  }
  const std::int64_t since = last_good ? last_good->revision : 0;
  auto reply = FetchPolicy(client, state, since, "");
  if (!reply) return reply.error();
  host_names = reply->host_principals;

  if (reply->shape == PolicyReply::Shape::kUnchanged) {
    if (!last_good || reply->revision != since) {
      return DataLoss("gate-ca answered 'unchanged' at revision " +
                      std::to_string(reply->revision) + " to a node at revision " +
                      std::to_string(since));
    }
    out.revision = since;
    out.sync_kind = "unchanged";
    if (SameUserCa(cache, reply->user_ca)) {
      // What the cache holds is what the steps after a sync work from.
      out.installed = *std::move(last_good);
      return Status::Ok();
    }
    // A new user CA is rare (a rebuilt gate-ca); take everything afresh.
    reply = FetchPolicy(client, state, 0, "");
    if (!reply) return reply.error();
    if (reply->shape != PolicyReply::Shape::kFullPage) {
      return DataLoss("gate-ca did not answer a node without a revision with a full snapshot");
    }
  }

  policy::Snapshot whole;
  if (reply->shape == PolicyReply::Shape::kDelta) {
    auto applied = last_good ? ApplyDelta(*last_good, *reply)
                             : Result<policy::Snapshot>(Err(DataLoss("a delta to no cache")));
    if (!applied) {
      // Asking again from the same revision would bring the same delta.
      (void)WriteFileAtomic(full_next, "", 0600);
      return applied.error().WithContext("delta not applied, the next sync fetches everything");
    }
    whole = *std::move(applied);
    out.sync_kind = "delta: " + std::to_string(reply->snapshot.users.size()) + " user(s) and " +
                    std::to_string(reply->snapshot.roles.size()) + " role(s) changed, " +
                    std::to_string(reply->removed_users.size()) + " user(s) and " +
                    std::to_string(reply->removed_roles.size()) + " role(s) removed";
  } else {
    if (!reply->has_krl) return DataLoss("the first policy page carries no KRL");
    int pages = 0;
    auto assembled = FetchPages(client, state, *reply, pages);
    if (!assembled) return assembled.error();
    whole = *std::move(assembled);
    out.sync_kind = "full snapshot in " + std::to_string(pages) + " page(s)";
  }
  auto contents = WholeCache(whole, *reply, state);
  if (!contents) return contents.error();
  auto installed = hooks::InstallCache(paths.CacheDir(), *contents);
  if (!installed) return installed.error();
  out.cache = *installed;
  out.revision = whole.revision;
  out.installed = std::move(whole);
  if (reply->shape == PolicyReply::Shape::kFullPage) (void)::unlink(full_next.c_str());
  return Status::Ok();
}

// The same names, whatever their order.
bool SameNames(std::vector<std::string> a, std::vector<std::string> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

// Why the current certificate must be replaced, or "" to keep it. host_names
// are the names gate-ca approved for this node (empty: unknown).
std::string RenewalReason(const NodePaths& paths, const ssh::Ed25519PublicKey& host_key,
                          const std::vector<std::string>& host_names, std::int64_t now,
                          std::int64_t& valid_before) {
  auto current = hooks::ReadHostCertificate(paths.HostCertPath());
  if (!current) {
    return current.error().code() == Code::kNotFound ? "was missing" : "was unreadable";
  }
  valid_before = static_cast<std::int64_t>(current->spec.valid_before);
  if (Status s = hooks::CheckHostCertificate(*current, host_key, now); !s.ok()) {
    return "was unusable: " + s.message();
  }
  if (!host_names.empty() && !SameNames(current->spec.principals, host_names)) {
    return "host names changed by an admin";
  }
  if (hooks::HostCertNeedsRenewal(*current, now)) {
    const std::int64_t days = (valid_before - now) / 86400;
    return "renewed, " + std::to_string(days) + " day(s) left";
  }
  return "";
}

// The node does not say which names it wants: gate-ca issues the
// certificate for the names it approved.
Status SyncHostCert(const NodePaths& paths, const HttpClient& client,
                    const std::vector<std::string>& host_names, std::int64_t now,
                    SyncOutcome& out) {
  auto host_key = hooks::ReadHostPublicKey(paths.HostKeyPath());
  if (!host_key) return host_key.error();
  const std::string reason =
      RenewalReason(paths, *host_key, host_names, now, out.host_cert_valid_before);
  if (reason.empty()) return Status::Ok();

  Json::Value body(Json::objectValue);
  body["host_key"] = host_key->AuthorizedKey();
  auto reply = client.Call("POST", "/v1/nodes/host-cert", &body);
  if (!reply) return reply.error();
  auto line = json::GetString(*reply, "host_certificate");
  if (!line) return line.error().WithContext("host-cert reply");
  auto cert = ssh::ParseCertificateLine(*line);
  if (!cert) return cert.error().WithContext("host-cert reply");
  GATE_RETURN_IF_ERROR(hooks::CheckHostCertificate(*cert, *host_key, now)
                           .WithContext("gate-ca sent an unusable host certificate"));
  auto wrote = WriteIfChanged(paths.HostCertPath(), ssh::CertificateLine(*cert));
  if (!wrote) return wrote.error();
  out.host_cert_written = *wrote;
  out.host_cert_note = reason;
  out.host_cert_valid_before = static_cast<std::int64_t>(cert->spec.valid_before);
  return Status::Ok();
}

}  // namespace

Status SyncOutcome::status() const {
  const Status policy = cache_status.WithContext("policy cache not updated");
  const Status cert = host_cert_status.WithContext("host certificate not renewed");
  if (!cache_status.ok() && !host_cert_status.ok()) {
    return Status(policy.code(), policy.message() + "; " + cert.message());
  }
  if (!cache_status.ok()) return policy;
  if (!host_cert_status.ok()) return cert;
  return Status::Ok();
}

std::string SyncOutcome::Describe() const {
  std::string line =
      cache_status.ok() ? hooks::DescribeCacheChanges(cache) : "cache kept (update failed)";
  if (cache_status.ok() && revision > 0) {
    line += " (policy revision " + std::to_string(revision) + ", " + sync_kind + ")";
  }
  line += "; host certificate ";
  if (!host_cert_status.ok()) {
    line += "kept (renewal failed)";
  } else if (host_cert_written) {
    line += "written (" + host_cert_note + ")";
  } else {
    line += "unchanged";
  }
  if (host_cert_valid_before > 0) {
    line += ", valid until " + hooks::FormatUnixTime(host_cert_valid_before);
  }
  return line;
}

SyncOutcome SyncNode(const NodePaths& paths, const NodeState& state, const HttpClient& client,
                     std::int64_t now) {
  SyncOutcome out;
  std::vector<std::string> host_names;
  out.cache_status = SyncCache(paths, state, client, out, host_names);
  out.host_cert_status = SyncHostCert(paths, client, host_names, now, out);
  return out;
}

Result<bool> WriteIfChanged(const std::string& path, const std::string& content) {
  std::string data = content;
  if (data.empty() || data.back() != '\n') data += '\n';
  auto current = ReadFile(path, 1 << 20);
  if (current && *current == data) return false;
  Status s = WriteFileAtomic(path, data, 0644);
  if (!s.ok()) return Err(s);
  return true;
}

Status CheckAndReload(const NodePaths& paths, const hooks::ReloadMethod& method) {
  if (method.kind == hooks::ReloadMethod::Kind::kNone) return Status::Ok();
  // A reload with a configuration sshd cannot load stops sshd.
  GATE_RETURN_IF_ERROR(hooks::TestSshdConfig(paths.sshd_binary, paths.sshd_config));
  return hooks::ReloadSshd(method);
}

std::string ReloadNote(const hooks::ReloadMethod& method) {
  if (method.kind == hooks::ReloadMethod::Kind::kNone) return "sshd not reloaded (--no-reload)";
  return "sshd reloaded (" + hooks::DescribeReloadMethod(method) + ")";
}

std::int64_t Now() { return static_cast<std::int64_t>(::time(nullptr)); }

}  // namespace gate::node
