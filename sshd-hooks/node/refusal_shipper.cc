#include "sshd-hooks/node/refusal_shipper.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gate/json.h"
#include "gate/refusal_spool.h"
#include "gate/secure_file.h"
#include "gate/unique_fd.h"

namespace gate::node {
namespace {

// What one request may carry: gate-ca refuses bodies over 64 KiB.
constexpr std::size_t kBatchRefusals = 200;
constexpr std::size_t kBatchBytes = 48 * 1024;

// The file's bytes, through libgate's one owner and mode check: a regular
// file (not a symlink), owned by owner (the spool's owner), 0600, no larger
// than the spool ever grows; "" with ok for anything else (the caller
// deletes it unread).
Result<std::string> ReadSpoolFile(const std::string& path, uid_t owner) {
  FilePolicy policy;
  policy.allowed_owners = {owner};
  policy.max_size = kMaxRefusalSpool + 4096;  // the last append may cross the limit
  auto text = ReadSecureFile(path, policy);
  if (!text) {
    const Code code = text.error().code();
    if (code == Code::kPermissionDenied || code == Code::kInvalidArgument) return std::string();
    return Err(text.error());
  }
  return std::string(text->view());
}

Status Send(const HttpClient& client, const Json::Value& batch) {
  Json::Value body(Json::objectValue);
  body["refusals"] = batch;
  auto reply = client.Call("POST", "/v1/nodes/refusals", &body);
  if (!reply) return reply.error().WithContext("sending refused logins to gate-ca");
  return Status::Ok();
}

Result<std::size_t> SendFile(const std::string& path, uid_t owner, const HttpClient& client,
                             std::size_t& malformed) {
  auto text = ReadSpoolFile(path, owner);
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
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return shipped;  // no spool, nothing queued
    return Err(Unavailable("cannot stat " + dir + ": " + std::strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) return Err(Unavailable(dir + " is not a directory"));
  // gate-principals writes the files as the directory's owner.
  const uid_t owner = st.st_uid;
  if (::lstat(sending.c_str(), &st) == 0) {
    auto sent = SendFile(sending, owner, client, shipped.malformed);
    if (!sent) return Err(sent.error());
    shipped.sent += *sent;
  }
  if (::lstat(spool.c_str(), &st) != 0 || st.st_size == 0) return shipped;
  if (::rename(spool.c_str(), sending.c_str()) != 0) {
    return Err(Unavailable("cannot move " + spool + " aside: " + std::strerror(errno)));
  }
  auto sent = SendFile(sending, owner, client, shipped.malformed);
  if (!sent) return Err(sent.error());
  shipped.sent += *sent;
  return shipped;
}

}  // namespace gate::node
