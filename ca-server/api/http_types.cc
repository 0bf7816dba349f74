#include "ca-server/api/http_types.h"

#include <algorithm>
#include <string>
#include <utility>

#include "gate/log.h"

namespace gate::ca {

std::string_view TrafficClassName(TrafficClass c) {
  switch (c) {
    case TrafficClass::kLogin:
      return "login";
    case TrafficClass::kNode:
      return "node";
    case TrafficClass::kUpload:
      return "upload";
    case TrafficClass::kApi:
      return "api";
    case TrafficClass::kAdmin:
      return "admin";
  }
  return "api";
}

std::int64_t ClientTime(const HttpRequest& req, std::int64_t now) {
  return req.arrived_at > 0 ? std::min(req.arrived_at, now) : now;
}

int ToHttpStatus(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
      return 400;
    case Code::kUnauthenticated:
      return 401;
    case Code::kPermissionDenied:
      return 403;
    case Code::kNotFound:
      return 404;
    case Code::kAlreadyExists:
      return 409;
    case Code::kFailedPrecondition:
      return 409;
    case Code::kResourceExhausted:
      return 429;
    case Code::kDataLoss:
      return 500;
    case Code::kInternal:
      return 500;
    case Code::kUnavailable:
      return 503;
  }
  // An out-of-range enum value can only come from a bug or memory corruption.
  return 500;
}

HttpReply ErrorReply(int http_status, Code code, std::string message) {
  HttpReply reply;
  reply.status = http_status;
  Json::Value error(Json::objectValue);
  error["code"] = std::string(CodeName(code));
  error["message"] = std::move(message);
  reply.body = Json::Value(Json::objectValue);
  reply.body["error"] = std::move(error);
  return reply;
}

HttpReply ErrorReply(const Status& s) {
  if (s.ok()) {
    log::Error("api: ErrorReply called with an OK status");
    return ErrorReply(500, Code::kInternal, "internal error");
  }
  const int http_status = ToHttpStatus(s.code());
  if (http_status >= 500) {
    // Keep the detail in the log, where only the operator reads it.
    log::Error("api: request failed: " + s.ToString());
    return ErrorReply(
        http_status, s.code(),
        http_status == 503 ? "service unavailable, try again later" : "internal error");
  }
  return ErrorReply(http_status, s.code(), s.message());
}

}  // namespace gate::ca

namespace gate::ca {
namespace {

constexpr std::size_t kCredentialRun = 16;

bool IsCredentialChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '%';
}

bool LooksLikeCredential(std::string_view segment) {
  std::size_t run = 0;
  for (char c : segment) {
    run = IsCredentialChar(c) ? run + 1 : 0;
    if (run >= kCredentialRun) return true;
  }
  return false;
}

}  // namespace

HttpReply BusyReply(TrafficClass c, int retry_after_seconds) {
  HttpReply reply =
      ErrorReply(503, Code::kUnavailable,
                 "gate-ca is busy (" + std::string(TrafficClassName(c)) +
                     " requests); try again in " + std::to_string(retry_after_seconds) + " s");
  reply.headers.emplace_back("Retry-After", std::to_string(retry_after_seconds));
  return reply;
}

std::string RedactPath(std::string_view path, std::size_t max_size) {
  if (path.empty()) return "-";
  std::string out;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = path.find('/', start);
    const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
    const std::string_view segment = path.substr(start, end - start);
    out += LooksLikeCredential(segment) ? std::string_view("<redacted>") : segment;
    if (slash == std::string_view::npos) break;
    out += '/';
    start = slash + 1;
  }
  if (out.size() > max_size) {
    out.resize(max_size);
    out += "...";
  }
  return out;
}

}  // namespace gate::ca
