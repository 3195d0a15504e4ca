// Status and Result: the error values every tuphap layer returns.
//
// A Status says what the caller should do next, through its code:
//   kInvalidArgument   the input was malformed: fix it, do not retry as is
//   kNotFound          the thing asked for does not exist
//   kAlreadyExists     a uniqueness rule was hit
//   kFailedPrecondition the operation does not apply to the current state
//   kPermissionDenied  the actor may not do this (scope, role, revocation)
//   kCorruption        stored or received data is damaged or forged: give up on it
//   kIoError           the disk or the OS failed: the operation did not happen
//   kUnavailable       a peer or resource is away: retry later
//   kResourceExhausted a limit was reached (disk full, size limits)
//   kAborted           the round was abandoned: restart it
//   kCancelled         the operator interrupted it (Ctrl-C): what is done is kept
//   kInternal          a bug; should never be seen
// A Status may also carry a short machine `reason` (e.g. "E_BAD_SIGNATURE")
// that is counted and reported; the message is for people.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace tuphap {

enum class StatusCode : unsigned char {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kPermissionDenied,
  kCorruption,
  kIoError,
  kUnavailable,
  kResourceExhausted,
  kAborted,
  kCancelled,
  kInternal,
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, std::string reason = {})
      : code_(code), message_(std::move(message)), reason_(std::move(reason)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status PermissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // Short machine code for counting refusals; empty when none was set.
  const std::string& reason() const { return reason_; }
  Status WithReason(std::string reason) && {
    reason_ = std::move(reason);
    return std::move(*this);
  }
  // Prefixes the message with where it happened ("file.jsonl line 4: ...").
  Status Annotate(const std::string& context) const;
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_ && a.reason_ == b.reason_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string reason_;
};

// Result<T>: a value or the Status saying why there is none.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  // By value from a temporary, so `for (auto& x : *Foo())` cannot dangle.
  T value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T operator*() && { return std::move(*this).value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace tuphap

#define TUPHAP_CONCAT_INNER(a, b) a##b
#define TUPHAP_CONCAT(a, b) TUPHAP_CONCAT_INNER(a, b)

// Unique names (__COUNTER__) so the macros nest, e.g. inside a lambda that
// is itself an argument of one.
#define TUPHAP_RETURN_IF_ERROR_IMPL(tmp, expr) \
  do {                                         \
    ::tuphap::Status tmp = (expr);             \
    if (!tmp.ok()) return tmp;                 \
  } while (false)
#define TUPHAP_RETURN_IF_ERROR(expr) \
  TUPHAP_RETURN_IF_ERROR_IMPL(TUPHAP_CONCAT(_tuphap_s, __COUNTER__), expr)

#define TUPHAP_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

#define TUPHAP_ASSIGN_OR_RETURN(lhs, expr) \
  TUPHAP_ASSIGN_OR_RETURN_IMPL(TUPHAP_CONCAT(_tuphap_r, __COUNTER__), lhs, expr)
