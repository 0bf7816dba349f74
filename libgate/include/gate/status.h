// Status and Result: how every fallible gate function reports failure.
//
// A Status is either OK or a (code, message) pair. The message is meant for
// the person at the other end (an admin reading a log, a user at a prompt):
// it says what failed and, where it helps, what to do; it never carries a
// secret. Result<T> is a T or a non-OK Status.
//
// Thread safety: values; safe to copy between threads.
#ifndef GATE_STATUS_H_
#define GATE_STATUS_H_

#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>

namespace gate {

enum class Code {
  kOk = 0,
  kInvalidArgument,     // the caller's input is malformed or out of range
  kNotFound,            // the named thing does not exist
  kAlreadyExists,       // creating something that exists
  kPermissionDenied,    // authenticated, but not allowed; or unsafe file perms
  kUnauthenticated,     // credentials missing or wrong
  kResourceExhausted,   // rate limit or lockout in force
  kFailedPrecondition,  // state does not allow this (expired, used, locked)
  kDataLoss,            // stored data is corrupt or truncated
  kUnavailable,         // a peer or service cannot be reached
  kInternal,            // a bug or a library failure we cannot explain
};

// Short lower-case name of a code ("invalid argument"), for logs and JSON.
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "invalid argument: <message>" (or "ok").
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>"; code unchanged.
  Status WithContext(std::string_view context) const;

  bool operator==(const Status&) const = default;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {Code::kResourceExhausted, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {Code::kFailedPrecondition, std::move(m)};
}
inline Status DataLoss(std::string m) { return {Code::kDataLoss, std::move(m)}; }
inline Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

// Result<T>: a value or the Status saying why there is none.
//
// A class rather than an alias of tl::expected only so that it can be
// [[nodiscard]] like Status: dropping a Result drops its error. Everything
// else is tl::expected's (constructors, value(), error(), and_then...).
// Where ignoring a Result is right, say so: `(void)Call();  // why`.
template <typename T>
class [[nodiscard]] Result : public tl::expected<T, Status> {
 public:
  using Base = tl::expected<T, Status>;
  using Base::Base;
  Result() = default;
  // The monadic helpers of tl::expected (map, and_then...) return the base
  // type; accept it back.
  Result(const Base& other) : Base(other) {}        // NOLINT: implicit by design
  Result(Base&& other) : Base(std::move(other)) {}  // NOLINT: implicit by design

  // Exact match, so comparing two Results is not ambiguous between
  // tl::expected's overloads.
  friend bool operator==(const Result& a, const Result& b) {
    return static_cast<const Base&>(a) == static_cast<const Base&>(b);
  }
};

// `return Err(NotFound("..."));` from a function returning Result<T>.
inline tl::unexpected<Status> Err(Status s) { return tl::unexpected<Status>(std::move(s)); }

// What GATE_RETURN_IF_ERROR returns: converts to Status or to any Result<T>,
// so the one macro serves both kinds of function.
struct ErrorReturn {
  Status status;
  operator Status() const { return status; }  // NOLINT: implicit by design
  template <typename T>
  operator Result<T>() const {  // NOLINT: implicit by design
    return tl::unexpected<Status>(status);
  }
};

// Propagate a failed Status from an expression returning Status.
#define GATE_RETURN_IF_ERROR(expr)                                    \
  do {                                                                \
    ::gate::Status gate_status_ = (expr);                             \
    if (!gate_status_.ok()) return ::gate::ErrorReturn{gate_status_}; \
  } while (0)

}  // namespace gate

#endif  // GATE_STATUS_H_
