#include "gate/refusal_spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "gate/json.h"
#include "gate/unique_fd.h"

namespace gate::node {

std::string RefusalSpoolDir(std::string_view cache_dir) {
  std::string_view dir = cache_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  const std::size_t slash = dir.rfind('/');
  const std::string parent =
      slash == std::string_view::npos ? "." : std::string(dir.substr(0, slash == 0 ? 1 : slash));
  return (parent == "/" ? "" : parent) + "/refusals";
}

std::string RefusalLine(const Refusal& r) {
  Json::Value v(Json::objectValue);
  v["time"] = Json::Int64(r.time);
  v["user"] = r.user;
  v["login"] = r.login;
  v["reason"] = r.reason.substr(0, kMaxRefusalReason);
  v["serial"] = std::to_string(r.serial);
  return json::Write(v) + "\n";
}

Status AppendRefusal(const std::string& dir, const Refusal& refusal) {
  // Only the spool's owner (the principals user) writes to it: a file
  // created by root running the hook by hand would lock that user out.
  struct stat dir_st {};
  if (::lstat(dir.c_str(), &dir_st) != 0) {
    if (errno == ENOENT) return NotFound("no refusal spool directory " + dir);
    return Unavailable("cannot stat " + dir + ": " + std::strerror(errno));
  }
  if (!S_ISDIR(dir_st.st_mode) || dir_st.st_uid != ::geteuid()) {
    return FailedPrecondition(dir + " is not a directory of this user's");
  }
  const std::string path = dir + "/" + std::string(kRefusalSpoolFile);
  UniqueFd fd(::open(path.c_str(),
                     O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    if (errno == ENOENT) return NotFound("no refusal spool directory " + dir);
    return Unavailable("cannot open " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Unavailable(path + " is not a regular file");
  }
  if (static_cast<std::size_t>(st.st_size) >= kMaxRefusalSpool) {
    return Unavailable(path + " is full (" + std::to_string(kMaxRefusalSpool) +
                       " bytes); gate-node sync has not shipped it");
  }
  const std::string line = RefusalLine(refusal);
  const ssize_t n = ::write(fd.get(), line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) {
    return Unavailable("cannot append to " + path + ": " +
                       (n < 0 ? std::strerror(errno) : "short write"));
  }
  return Status::Ok();
}

std::vector<Refusal> ParseRefusals(std::string_view text, std::size_t* malformed) {
  std::vector<Refusal> out;
  std::size_t bad = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty()) continue;
    auto v = json::Parse(line, 4096);
    if (!v || !v->isObject() || !(*v)["time"].isInt64() || !(*v)["user"].isString() ||
        !(*v)["login"].isString() || !(*v)["reason"].isString() || !(*v)["serial"].isString()) {
      ++bad;
      continue;
    }
    Refusal r;
    r.time = (*v)["time"].asInt64();
    r.user = (*v)["user"].asString();
    r.login = (*v)["login"].asString();
    r.reason = (*v)["reason"].asString().substr(0, kMaxRefusalReason);
    const std::string serial = (*v)["serial"].asString();
    char* end = nullptr;
    errno = 0;
    r.serial = std::strtoull(serial.c_str(), &end, 10);
    if (serial.empty() || errno != 0 || end == nullptr || *end != '\0') {
      ++bad;
      continue;
    }
    out.push_back(std::move(r));
  }
  if (malformed != nullptr) *malformed = bad;
  return out;
}

}  // namespace gate::node
