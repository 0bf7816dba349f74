#include "ca-server/api/http_types.h"

#include <string>
#include <utility>

#include "gate/log.h"

namespace gate::ca {

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
