#include "gate/exit_code.h"

#include <iostream>

namespace gate::cli {

int ToExitCode(Code code) {
  switch (code) {
    case Code::kOk:
      return kExitOk;
    case Code::kInvalidArgument:
      return kExitUsage;
    case Code::kUnauthenticated:
    case Code::kPermissionDenied:
    case Code::kResourceExhausted:
      return kExitAuth;
    case Code::kUnavailable:
      return kExitUnavailable;
    case Code::kNotFound:
      return kExitNotFound;
    case Code::kAlreadyExists:
    case Code::kFailedPrecondition:
    case Code::kDataLoss:
    case Code::kInternal:
      return kExitFailure;
  }
  return kExitFailure;
}

int Fail(std::string_view tool, const Status& status) {
  std::cerr << tool << ": " << status.message() << "\n";
  return ToExitCode(status.code());
}

}  // namespace gate::cli
