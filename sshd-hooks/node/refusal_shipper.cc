#include "sshd-hooks/node/refusal_shipper.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gate/json.h"
#include "gate/refusal_spool.h"
#include "gate/unique_fd.h"

namespace gate::node {
namespace {

// What one request may carry: gate-ca refuses bodies over 64 KiB.
constexpr std::size_t kBatchRefusals = 200;
constexpr std::size_t kBatchBytes = 48 * 1024;

// The file's bytes if it is a regular file (not a symlink), bounded; ""
// with ok for one that is something else (the caller deletes it).
Result<std::string> ReadSpoolFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ELOOP) return std::string();
    return Err(Unavailable("cannot open " + path + ": " + std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::string();
  std::string text;
  char buf[16384];
  while (text.size() <= kMaxRefusalSpool + 4096) {
    const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Err(Unavailable("cannot read " + path + ": " + std::strerror(errno)));
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

Status Send(const HttpClient& client, const Json::Value& batch) {
  Json::Value body(Json::objectValue);
  body["refusals"] = batch;
  auto reply = client.Call("POST", "/v1/nodes/refusals", &body);
  if (!reply) return reply.error().WithContext("sending refused logins to gate-ca");
  return Status::Ok();
}

Result<std::size_t> SendFile(const std::string& path, const HttpClient& client,
                             std::size_t& malformed) {
  auto text = ReadSpoolFile(path);
  if (!text) return Err(text.error());
  std::size_t bad = 0;
  const std::vector<Refusal> refusals = ParseRefusals(*text, &bad);
  malformed += bad;
  Json::Value batch(Json::arrayValue);
  std::size_t bytes = 0;
  for (const Refusal& r : refusals) {
    Json::Value item(Json::objectValue);
    item["time"] = Json::Int64(r.time);
    item["user"] = r.user;
    item["login"] = r.login;
    item["reason"] = r.reason;
    item["serial"] = std::to_string(r.serial);
    const std::size_t size = json::Write(item).size() + 1;
    if (!batch.empty() && (batch.size() >= kBatchRefusals || bytes + size > kBatchBytes)) {
      GATE_RETURN_IF_ERROR(Send(client, batch));
      batch = Json::Value(Json::arrayValue);
      bytes = 0;
    }
    batch.append(item);
    bytes += size;
  }
  if (!batch.empty()) GATE_RETURN_IF_ERROR(Send(client, batch));
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Err(Unavailable("cannot remove " + path + ": " + std::strerror(errno)));
  }
  return refusals.size();
}

}  // namespace

Status EnsureRefusalSpool(const std::string& dir, const std::string& user) {
  const struct passwd* pw = ::getpwnam(user.c_str());
  if (pw == nullptr) return NotFound("no user " + user + " for the refusal spool");
  const uid_t uid = pw->pw_uid;
  const gid_t gid = pw->pw_gid;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Unavailable("cannot create " + dir + ": " + std::strerror(errno));
  }
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return Unavailable(dir + " is not a directory (" + std::strerror(errno) + ")");
  if (::fchown(fd.get(), uid, gid) != 0 || ::fchmod(fd.get(), 0700) != 0) {
    return Unavailable("cannot give " + dir + " to " + user + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Result<ShippedRefusals> ShipRefusals(const std::string& dir, const HttpClient& client) {
  ShippedRefusals shipped;
  const std::string spool = dir + "/" + std::string(kRefusalSpoolFile);
  const std::string sending = dir + "/" + std::string(kRefusalSendingFile);
  struct stat st {};
  if (::lstat(sending.c_str(), &st) == 0) {
    auto sent = SendFile(sending, client, shipped.malformed);
    if (!sent) return Err(sent.error());
    shipped.sent += *sent;
  }
  if (::lstat(spool.c_str(), &st) != 0 || st.st_size == 0) return shipped;
  if (::rename(spool.c_str(), sending.c_str()) != 0) {
    return Err(Unavailable("cannot move " + spool + " aside: " + std::strerror(errno)));
  }
  auto sent = SendFile(sending, client, shipped.malformed);
  if (!sent) return Err(sent.error());
  shipped.sent += *sent;
  return shipped;
}

}  // namespace gate::node
