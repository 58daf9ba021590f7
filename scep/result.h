// Errors as values (shaped like std::expected), for everything that crosses the OpenSSL boundary or handles
// untrusted bytes. No exceptions on the data path.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "scep/scep_types.h"

namespace scep {

enum class ErrorCode {
  Malformed,        // not a pkiMessage at all / undecodable bytes: the HTTP layer answers 4xx
  BadMessageCheck,  // signature, digest or decryption check failed: signed FAILURE badMessageCheck
  BadAlg,           // an algorithm we do not (or are configured not to) accept: FAILURE badAlg
  BadRequest,       // well-formed but refused (challenge, policy, mismatch): FAILURE badRequest
  BadTime,          // signingTime / validity out of range: FAILURE badTime
  BadCertId,        // unknown certificate or transaction: FAILURE badCertId
  Internal,         // our side failed (I/O, building a reply): never the client's fault
};

std::string to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::Internal;
  std::string detail;           // what went wrong, for the log
  std::string openssl_errors;   // the drained OpenSSL error queue, if any

  // The failInfo a signed FAILURE should carry, if this error maps to one.
  [[nodiscard]] std::optional<FailInfo> fail_info() const;
  // "badMessageCheck: CMS signature did not verify (error:...)"
  [[nodiscard]] std::string ToString() const;
};

// Creates an error and drains the OpenSSL error queue into it, so that nothing leaks into the next request
// handled on the same thread. Use this for every failure that follows an OpenSSL call.
[[nodiscard]] Error OpensslError(ErrorCode code, std::string detail);
// Creates an error that has nothing to do with OpenSSL (the queue is still cleared).
[[nodiscard]] Error MakeError(ErrorCode code, std::string detail);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  [[nodiscard]] bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  [[nodiscard]] const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT

  [[nodiscard]] bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  [[nodiscard]] const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

}  // namespace scep
