#include "sshd-hooks/node/syncer.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "gate/certificate.h"
#include "gate/json.h"
#include "gate/secure_file.h"
#include "sshd-hooks/node/host_cert.h"

namespace gate::node {
namespace {

Status SyncCache(const NodePaths& paths, const NodeState& state, const HttpClient& client,
                 hooks::CacheChanges& changes, std::vector<std::string>& host_names) {
  auto reply = client.Call("GET", "/v1/nodes/policy");
  if (!reply) return reply.error();
  if (reply->isMember("host_principals")) {
    auto names = json::GetStringArray(*reply, "host_principals");
    if (!names) return names.error().WithContext("policy reply");
    host_names = *std::move(names);
  }
  auto contents = hooks::CacheFromPolicyReply(*reply, state.host_uuid);
  if (!contents) return contents.error();
  auto installed = hooks::InstallCache(paths.CacheDir(), *contents);
  if (!installed) return installed.error();
  changes = *installed;
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
  out.cache_status = SyncCache(paths, state, client, out.cache, host_names);
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
