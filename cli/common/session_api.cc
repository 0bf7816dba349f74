#include "cli/common/session_api.h"

#include <CLI/CLI.hpp>
#include <ctime>

#include "gate/certificate.h"
#include "gate/curl_http.h"
#include "gate/json.h"
#include "gate/request_signing.h"
#include "gate/secure_file.h"
#include "gate/uuid.h"

namespace gate::cli {
namespace {

// What one GET of a recording returns at most (gate-ca's kMaxRecordingRead).
constexpr std::size_t kRecordingPage = 16 << 20;

std::string Encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

Status CheckId(const std::string& id) {
  if (!IsCanonicalUuid(id)) {
    return InvalidArgument("'" + id.substr(0, 64) + "' is not a session ID (a lower-case UUID)");
  }
  return Status::Ok();
}

}  // namespace

void DefineProxyOverride(CLI::App& sub, ProxyFlags& flags) {
  sub.add_option("--proxy", flags.proxy,
                 "gate-ca address, HOST[:PORT] (default: the one you logged in to)");
  sub.add_flag("--insecure", flags.insecure,
               "With --proxy: do not verify the server's TLS certificate (prints a warning)");
  sub.add_option("--ca-pin", flags.ca_pin,
                 "With --proxy: trust the server whose TLS key has this pin (sha256:HEX)");
}

std::string SessionQueryString(const SessionQuery& q) {
  std::string out;
  auto add = [&out](std::string_view name, const std::string& value) {
    out += out.empty() ? "?" : "&";
    out += std::string(name) + "=" + Encode(value);
  };
  if (q.live) add("live", *q.live ? "1" : "0");
  if (!q.user.empty()) add("user", q.user);
  if (!q.node.empty()) add("node", q.node);
  if (q.since > 0) add("since", std::to_string(q.since));
  if (q.limit > 0) add("limit", std::to_string(q.limit));
  if (!q.before.empty()) add("before", q.before);
  return out;
}

Result<SessionClient> SessionClient::FromProfile(const ProfileStore& store, const ProxyFlags& flags,
                                                 std::int64_t now) {
  auto profile = store.Load();
  if (!profile) return Err(profile.error());
  FilePolicy policy;
  policy.max_size = 64 * 1024;
  auto pem = ReadSecureFile(store.KeyPath(), policy);
  if (!pem) return Err(pem.error());
  auto key = ssh::DecodeOpenSshPrivateKey(pem->view());
  if (!key) return Err(key.error().WithContext(store.KeyPath()));
  auto line = ReadFile(store.CertPath(), 64 * 1024);
  if (!line) return Err(line.error());
  auto cert = ssh::ParseCertificateLine(*line);
  if (!cert) return Err(cert.error().WithContext(store.CertPath()));
  if (!(cert->spec.public_key == key->public_key())) {
    return Err(FailedPrecondition(store.CertPath() + " does not certify " + store.KeyPath() +
                                  "; run gate login"));
  }
  if (Status s = ssh::CheckValidity(*cert, static_cast<std::uint64_t>(now)); !s.ok()) {
    return Err(FailedPrecondition("your Gate " + s.message() + "; run gate login"));
  }
  ProxyFlags target = flags;
  if (target.proxy.empty()) target = ProxyFlags{profile->proxy, profile->insecure, profile->ca_pin};
  auto options = ProxyClientOptions(target);
  if (!options) return Err(options.error());
  options->timeout = std::chrono::seconds(60);
  return SessionClient(CurlHttpClient(*options),
                       std::make_unique<ssh::Ed25519PrivateKey>(std::move(*key)), cert->blob);
}

Result<HttpRawResponse> SessionClient::SignedGet(const std::string& target,
                                                 std::size_t max_bytes) const {
  auto headers = signing::SignRequest(*key_, blob_, "GET", target, "",
                                      static_cast<std::int64_t>(std::time(nullptr)));
  if (!headers) return Err(headers.error());
  HttpRawRequest req;
  req.method = "GET";
  req.target = target;
  req.headers = {{"Authorization", headers->authorization},
                 {std::string(signing::kSignatureHeader), headers->signature}};
  req.max_response_bytes = max_bytes;
  return client_.Send(req);
}

Result<Json::Value> SessionClient::GetJson(const std::string& target) const {
  auto r = SignedGet(target, 8 << 20);
  if (!r) return Err(r.error());
  Json::Value body;
  if (!r->body.empty()) {
    auto parsed = json::Parse(r->body, 8 << 20);
    if (!parsed && r->status == 200) {
      return Err(DataLoss("invalid answer from gate-ca: " + parsed.error().message()));
    }
    if (parsed) body = *std::move(parsed);
  }
  if (r->status != 200) {
    return Err(StatusFromErrorReply(r->status, body, client_.options().base_url + target));
  }
  return body;
}

Result<Json::Value> SessionClient::List(const SessionQuery& query) const {
  return GetJson("/v1/sessions" + SessionQueryString(query));
}

Result<Json::Value> SessionClient::Nodes() const { return GetJson("/v1/nodes"); }

Result<Json::Value> SessionClient::Get(const std::string& id) const {
  GATE_RETURN_IF_ERROR(CheckId(id));
  return GetJson("/v1/sessions/" + id);
}

Result<std::string> SessionClient::FetchRecording(const std::string& id,
                                                  std::size_t max_bytes) const {
  GATE_RETURN_IF_ERROR(CheckId(id));
  std::string out;
  for (;;) {
    const std::string target =
        "/v1/sessions/" + id + "/recording?offset=" + std::to_string(out.size());
    auto r = SignedGet(target, kRecordingPage + 1024);
    if (!r) return Err(r.error());
    if (r->status == 204) break;
    if (r->status != 200) {
      auto body = json::Parse(r->body);
      return Err(StatusFromErrorReply(r->status, body ? *body : Json::Value(),
                                      client_.options().base_url + target));
    }
    if (r->body.empty()) break;
    if (r->body.size() > max_bytes - out.size()) {
      return Err(FailedPrecondition("session " + id + "'s recording is larger than " +
                                    std::to_string(max_bytes >> 20) + " MiB"));
    }
    out += r->body;
    // A short page is the end (of what a live session has written so far).
    if (r->body.size() < kRecordingPage) break;
  }
  return out;
}

}  // namespace gate::cli
